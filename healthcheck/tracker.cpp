#include "healthcheck/tracker.h"

#include <algorithm>
#include <string>

namespace geosteer::healthcheck {

Verdict verdict_of(Outcome outcome) {
  switch (outcome) {
    case Outcome::Ok: return Verdict::Up;
    case Outcome::Failed: return Verdict::Down;
    case Outcome::Stale: return Verdict::Stale;
    case Outcome::Slow: return Verdict::Slow;
  }
  return Verdict::Down;
}

namespace {

// Always true, so that callers can return it: a transition is what record() reports.
bool transition(MirrorHealth& health, Verdict verdict, const std::string& reason,
                std::chrono::system_clock::time_point now) {
  health.verdict = verdict;
  health.reason = reason;
  health.last_transition = now;
  return true;
}

}  // namespace

Tracker::Tracker(const ProbeSettings& settings) : rise_(settings.rise), fall_(settings.fall) {
  health_.verdict = settings.initial_up ? Verdict::Up : Verdict::Down;
  if (!settings.initial_up) health_.reason = "initial state";
}

bool Tracker::record(const ProbeResult& result, std::chrono::system_clock::time_point now) {
  health_.probed = true;
  health_.http_status = result.http_status;
  health_.latency_ms = result.first_byte_ms;
  health_.lag_seconds = result.lag_seconds;
  health_.last_probe = now;
  if (result.outcome == Outcome::Ok) {
    // Counters stop at their threshold: only reaching it matters, they cannot wrap,
    // and a threshold of 0 (which the configuration refuses) acts like 1.
    successes_ = std::min(successes_ + 1, rise_);
    failures_ = 0;
    if (health_.verdict == Verdict::Up || successes_ < rise_) return false;
    return transition(health_, Verdict::Up, result.reason, now);
  }
  failures_ = std::min(failures_ + 1, fall_);
  successes_ = 0;
  Verdict verdict = verdict_of(result.outcome);
  if (health_.verdict == Verdict::Up) {
    return failures_ >= fall_ && transition(health_, verdict, result.reason, now);
  }
  // Already out of the answers: a different kind of trouble needs no confirmation,
  // it only changes which fallback tier the mirror is in and what the operator reads.
  if (verdict != health_.verdict) return transition(health_, verdict, result.reason, now);
  health_.reason = result.reason;
  return false;
}

}  // namespace geosteer::healthcheck
