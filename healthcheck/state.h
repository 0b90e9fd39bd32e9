// The state the health checker publishes for every mirror. Steering reads it from
// the immutable snapshot. Before its first probe result a mirror is in its initial
// state (up unless `initial: down`); without any healthcheck configuration no
// probe runs and every mirror stays up.
#pragma once

#include <array>
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
  Up,     // alive, fast enough, in sync
  Stale,  // alive but lagging upstream by more than max_lag
  Slow,   // alive but slower than max_latency
  Down,   // not answering correctly
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
  std::chrono::system_clock::time_point last_probe{};
  std::chrono::system_clock::time_point last_transition{};

  bool usable() const { return verdict == Verdict::Up; }
};

// One entry per configured mirror, indexed like Config::mirrors.
struct HealthState {
  // Per mirror, for operators: the worse of its address families.
  std::vector<MirrorHealth> mirrors;
  // Per mirror and family ([0] IPv4, [1] IPv6), for steering: a mirror whose IPv6
  // is broken still answers A queries. Empty when the families were not judged
  // apart; then `mirrors` holds for both.
  std::vector<std::array<Verdict, 2>> by_family;

  // Mirrors beyond the state (added since it was made) count as up.
  Verdict verdict(size_t mirror, Family family) const {
    if (mirror < by_family.size()) return by_family[mirror][family == Family::V4 ? 0 : 1];
    return mirror < mirrors.size() ? mirrors[mirror].verdict : Verdict::Up;
  }

  static HealthState all_up(size_t mirror_count) {
    HealthState state;
    state.mirrors.resize(mirror_count);
    return state;
  }
};

}  // namespace geosteer::healthcheck
