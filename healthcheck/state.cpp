#include "healthcheck/state.h"

namespace geosteer::healthcheck {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Up: return "up";
    case Verdict::Stale: return "stale";
    case Verdict::Slow: return "slow";
    case Verdict::Down: return "down";
  }
  return "unknown";
}

}  // namespace geosteer::healthcheck
