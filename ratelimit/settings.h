// The settings of response rate limiting (`server.rate_limit` in the
// configuration), plain values that zones/ fills in and the limiter reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip.h"

namespace geosteer::ratelimit {

struct Settings {
  bool enabled = true;
  unsigned responses_per_second = 100;  // per client network and account
  // How long excess is remembered: a client that kept over the rate stays limited
  // for up to this long after it slows down (BIND's `window`).
  std::chrono::seconds window{15};
  unsigned slip = 2;  // every slip-th drop is a truncated reply; 0: never, 1: always
  uint8_t ipv4_prefix = 24;
  uint8_t ipv6_prefix = 56;
  std::vector<IpPrefix> exempt;  // never limited (monitoring, known resolvers)
  // Accounts tracked at once; rounded up to a power of two. 16 bytes each.
  size_t table_entries = size_t{1} << 17;
};

}  // namespace geosteer::ratelimit
