#include "healthcheck/state.h"

#include "healthcheck/probe.h"
#include "healthcheck/settings.h"

namespace geosteer::healthcheck {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Up: return "up";
    case Verdict::Stale: return "stale";
    case Verdict::Slow: return "slow";
    case Verdict::Flapping: return "flapping";
    case Verdict::Down: return "down";
  }
  return "unknown";
}

Verdict HealthState::verdict(size_t mirror, const IpAddress& address) const {
  if (mirror < addresses.size() && !addresses[mirror].empty()) {
    for (const AddressHealth& probed : addresses[mirror]) {
      if (probed.address == address) return probed.health.verdict;
    }
    return Verdict::Up;
  }
  return mirror < mirrors.size() ? mirrors[mirror].verdict : Verdict::Up;
}

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::Ok: return "ok";
    case Outcome::Failed: return "failed";
    case Outcome::Stale: return "stale";
    case Outcome::Slow: return "slow";
  }
  return "unknown";
}

const char* to_string(FreshnessMethod m) {
  switch (m) {
    case FreshnessMethod::None: return "none";
    case FreshnessMethod::Trace: return "trace";
    case FreshnessMethod::Upstream: return "upstream";
    case FreshnessMethod::Canary: return "canary";
  }
  return "unknown";
}

}  // namespace geosteer::healthcheck
