// Hysteresis over the probe results of one address, as gdnsd's monitors do it:
// failures count until `rise` consecutive successes clear them, and `fall` of them
// take the address out, successes in between or not; leaving any bad verdict takes
// `rise` consecutive results beyond it. On top of that, an address whose verdict
// changes more than `flapping.changes` times within `flapping.window` is flapping:
// out of the answers until its verdict has held for `flapping.hold_down`. Pure
// logic, no I/O; time comes from the caller.
#pragma once

#include <chrono>
#include <deque>
#include <string>

#include "healthcheck/probe.h"
#include "healthcheck/state.h"

namespace geosteer::healthcheck {

class Tracker {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit Tracker(const ProbeSettings& settings);

  // New thresholds after a reload: the verdict, counters and history are kept and
  // judged by the new settings from the next result on.
  void reconfigure(const ProbeSettings& settings);

  // Records a result; returns true when the published verdict changed (a
  // transition to log).
  bool record(const ProbeResult& result, TimePoint now = std::chrono::system_clock::now());

  const MirrorHealth& health() const { return health_; }

 private:
  // The verdict that hysteresis alone reaches, before flapping is considered.
  bool judge(Verdict seen, const std::string& reason);
  bool judge_while_up(Verdict seen, const std::string& reason);
  bool judge_while_out(Verdict seen, const std::string& reason);
  void move_to(Verdict verdict, const std::string& reason);
  void note_change(TimePoint now);
  void update_flapping(TimePoint now);
  void publish(TimePoint now);

  unsigned rise_, fall_;
  FlapSettings flap_;

  Verdict judged_;
  std::string judged_reason_;
  // While up: failures not yet cleared, and the successes since the last failure.
  unsigned failures_ = 0, successes_ = 0;
  // While out: consecutive results on one side of the judged verdict, and the
  // verdict nearest to it that all of them reach (with its latest reason).
  unsigned streak_ = 0;
  Verdict streak_verdict_ = Verdict::Up;
  std::string streak_reason_;

  std::deque<TimePoint> changes_;  // of the judged verdict, within the flap window
  TimePoint last_change_{};
  bool flapping_ = false;

  MirrorHealth health_;
};

// Verdict a bad result stands for once it has happened `fall` times.
Verdict verdict_of(Outcome outcome);

}  // namespace geosteer::healthcheck
