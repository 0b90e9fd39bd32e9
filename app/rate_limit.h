// Response rate limiting between the responder and the socket: dns/ classifies a
// response (QueryOutcome), ratelimit/ decides, this applies the verdict to the
// message about to be sent. UDP only: over TCP the source address is verified by
// the handshake, so no one can be made a victim and nothing is limited.
#pragma once

#include <cstddef>
#include <span>

#include "dns/responder.h"
#include "ratelimit/limiter.h"

namespace geosteer::app {

struct LimitedResponse {
  ratelimit::Verdict verdict = ratelimit::Verdict::Send;
  size_t length = 0;  // what to send now: the response, a truncated reply, or 0
};

// `response` holds the `length` bytes the responder wrote for a query that had
// `outcome`; on a slip it is rewritten in place into an empty truncated reply
// (a response without a question, to a query too broken to have one, has no slip
// and is dropped).
LimitedResponse limit_response(ratelimit::Limiter& limiter, const dns::QueryOutcome& outcome,
                               const dns::RequestInfo& info, std::span<uint8_t> response,
                               size_t length, ratelimit::Limiter::Clock::time_point now);

}  // namespace geosteer::app
