// Hysteresis over probe results: `fall` consecutive failures take a mirror out,
// `rise` consecutive successes bring it back. Pure logic, no I/O.
#pragma once

#include <chrono>

#include "healthcheck/probe.h"
#include "healthcheck/state.h"

namespace geosteer::healthcheck {

class Tracker {
 public:
  explicit Tracker(const ProbeSettings& settings);

  // Records a result; returns true when the verdict changed (a transition to log).
  bool record(const ProbeResult& result,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  const MirrorHealth& health() const { return health_; }

 private:
  unsigned rise_, fall_;
  unsigned successes_ = 0, failures_ = 0;
  MirrorHealth health_;
};

// Verdict a bad result stands for once it has happened `fall` times.
Verdict verdict_of(Outcome outcome);

}  // namespace geosteer::healthcheck
