#include "app/rate_limit.h"

#include "dns/wire.h"

namespace geosteer::app {
namespace {

ratelimit::ResponseClass response_class(dns::QueryOutcome::Kind kind) {
  switch (kind) {
    case dns::QueryOutcome::Kind::NoData:
      return ratelimit::ResponseClass::NoData;
    case dns::QueryOutcome::Kind::NxDomain:
      return ratelimit::ResponseClass::NxDomain;
    case dns::QueryOutcome::Kind::Error:
      return ratelimit::ResponseClass::Error;
    case dns::QueryOutcome::Kind::Explanation:
      return ratelimit::ResponseClass::Explanation;
    case dns::QueryOutcome::Kind::Answer:
      break;
  }
  return ratelimit::ResponseClass::Answer;
}

}  // namespace

LimitedResponse limit_response(ratelimit::Limiter& limiter, const dns::QueryOutcome& outcome,
                               const dns::RequestInfo& info, std::span<uint8_t> response,
                               size_t length, ratelimit::Limiter::Clock::time_point now) {
  if (length == 0 || info.transport != dns::Transport::Udp) return {ratelimit::Verdict::Send, length};
  // A valid server cookie proves the client receives what is sent to its address:
  // no one else can be the victim of the answer (as BIND does, RFC 7873 section 1).
  if (outcome.cookie == dns::CookieStatus::Valid) return {ratelimit::Verdict::Send, length};
  // The key is the address the response goes to: an ECS option names someone else,
  // and is as easy to forge as the rest of the query.
  ratelimit::Response key{info.source, response_class(outcome.kind), outcome.key(), outcome.qtype};
  ratelimit::Verdict verdict = limiter.check(key, now);
  switch (verdict) {
    case ratelimit::Verdict::Send:
      return {verdict, length};
    case ratelimit::Verdict::Drop:
      return {verdict, 0};
    case ratelimit::Verdict::Slip:
      break;
  }
  size_t slip = dns::wire::truncate_to_question(response, length);
  if (slip == 0) return {ratelimit::Verdict::Drop, 0};
  return {verdict, slip};
}

}  // namespace geosteer::app
