// Response rate limiting (RRL) for UDP, after the design of BIND's and Knot's
// classic RRL: a DNS server answering forged queries is a reflection amplifier,
// and the victim's address is the query's source. Identical responses to one
// client network are counted in token buckets; past the rate they are dropped,
// and every `slip`-th drop is sent as an empty truncated reply instead so that a
// real client behind that address retries over TCP, where forgery is impossible.
//
// Knows addresses, response classes and names; no sockets, no DNS wire format.
// The table is made once, at load; check() takes no lock and never allocates.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/ip.h"
#include "common/siphash.h"
#include "ratelimit/settings.h"

namespace geosteer::ratelimit {

// Responses are counted per class, each keyed as BIND keys it, so that an attacker
// cannot dodge the limit by varying the part of the query that does not change the
// response's size.
enum class ResponseClass : uint8_t {
  Answer,       // positive answers and referrals: keyed by name and type
  NoData,       // keyed by name alone: random types of one name are one account
  NxDomain,     // keyed by the zone: random names under it are one account
  Error,        // REFUSED, FORMERR, NOTIMP, ...: one account per client network
  Explanation,  // the `_geosteer` TXT, large and different per client: by name
};

// One response about to be sent over UDP.
struct Response {
  IpAddress client;  // the address the query came from, never the ECS address
  ResponseClass kind = ResponseClass::Answer;
  std::string_view name;  // canonical wire name identifying it within its class
  uint16_t qtype = 0;     // part of the key of Answer only
};

enum class Verdict : uint8_t { Send, Drop, Slip };

class Limiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Allocates the table; `hash_key` keys the table's hash (random in production,
  // so that no client can aim its accounts at another's slots).
  Limiter(Settings settings, const SipHashKey& hash_key);
  explicit Limiter(Settings settings);  // a random hash key
  ~Limiter();
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // Debits the response's account at time `now` and says what to do with it.
  // Safe to call from any number of threads at once.
  Verdict check(const Response& response, Clock::time_point now);

  const Settings& settings() const { return settings_; }

 private:
  struct Bucket;

  uint64_t account_key(const Response& response) const;
  bool exempt(const IpAddress& client) const;

  Settings settings_;
  SipHashKey hash_key_;
  uint64_t interval_us_;  // time one response costs: 1 s / rate
  uint64_t burst_us_;     // credit an idle account has: one second of responses
  uint64_t debt_us_;      // most the account can owe: the window
  std::unique_ptr<Bucket[]> buckets_;
  size_t bucket_mask_;
};

}  // namespace geosteer::ratelimit
