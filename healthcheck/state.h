// The state the health checker publishes for every mirror. Steering reads it from
// the immutable snapshot. Before its first probe result a mirror is in its initial
// state (up unless `initial: down`); without any healthcheck configuration no
// probe runs and every mirror stays up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"

namespace geosteer::healthcheck {

// Ordered from best to worst: steering prefers a better verdict when it must
// choose among unhealthy mirrors.
enum class Verdict {
  Up,        // alive, fast enough, in sync
  Stale,     // alive but lagging upstream by more than max_lag
  Slow,      // alive but slower than max_latency
  Flapping,  // changing verdict too often to be trusted; out until it holds still
  Down,      // not answering correctly
};

const char* to_string(Verdict v);

struct MirrorHealth {
  Verdict verdict = Verdict::Up;
  std::string reason;  // why, for logs and the status page ("HTTP 503", "stale: lag 9h > 6h")
  bool probed = false;  // false until the first probe result
  // The latest probe, whatever the verdict.
  int http_status = 0;
  std::optional<double> latency_ms;  // time to first byte of the liveness request
  std::optional<int64_t> lag_seconds;
  // Whether the latest probe found the mirror in sync; unknown when it did not get
  // as far as checking (liveness failed, no freshness method, upstream unavailable).
  std::optional<bool> fresh;
  std::chrono::system_clock::time_point last_probe{};
  std::chrono::system_clock::time_point last_transition{};

  bool usable() const { return verdict == Verdict::Up; }
};

// One probed address of a mirror: each address DNS hands out is judged on its own.
struct AddressHealth {
  IpAddress address;
  MirrorHealth health;
};

// One entry per configured mirror, indexed like Config::mirrors.
struct HealthState {
  // Per mirror, for operators: its worst address, the reason naming the address
  // when the mirror has several.
  std::vector<MirrorHealth> mirrors;
  // Per mirror, each probed address, in configuration order (IPv4 first). Empty
  // (for one mirror or all) when addresses were not judged apart; then `mirrors`
  // holds for every address of the mirror.
  std::vector<std::vector<AddressHealth>> addresses;

  // The verdict steering reads for one address of a mirror. Mirrors and addresses
  // beyond the state (added since it was made) count as up.
  Verdict verdict(size_t mirror, const IpAddress& address) const;

  static HealthState all_up(size_t mirror_count) {
    HealthState state;
    state.mirrors.resize(mirror_count);
    return state;
  }
};

}  // namespace geosteer::healthcheck
