#include "healthcheck/tracker.h"

#include <algorithm>
#include <string>

#include "healthcheck/time_text.h"

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

Tracker::Tracker(const ProbeSettings& settings)
    : rise_(settings.rise),
      fall_(settings.fall),
      flap_(settings.flapping),
      judged_(settings.initial_up ? Verdict::Up : Verdict::Down) {
  if (!settings.initial_up) judged_reason_ = "initial state";
  health_.verdict = judged_;
  health_.reason = judged_reason_;
}

void Tracker::reconfigure(const ProbeSettings& settings) {
  rise_ = settings.rise;
  fall_ = settings.fall;
  flap_ = settings.flapping;
}

bool Tracker::record(const ProbeResult& result, TimePoint now) {
  health_.probed = true;
  health_.http_status = result.http_status;
  health_.latency_ms = result.first_byte_ms;
  health_.lag_seconds = result.lag_seconds;
  health_.fresh = result.fresh;
  health_.last_probe = now;
  Verdict before = health_.verdict;
  if (judge(verdict_of(result.outcome), result.reason)) note_change(now);
  update_flapping(now);
  publish(now);
  return health_.verdict != before;
}

bool Tracker::judge(Verdict seen, const std::string& reason) {
  return judged_ == Verdict::Up ? judge_while_up(seen, reason) : judge_while_out(seen, reason);
}

// gdnsd's rule: a success does not clear the failures, `rise` successes in a row
// do. A mirror failing every other probe therefore goes down after `fall` probes
// instead of staying up forever. Counters stop at their threshold, so they cannot
// wrap, and a threshold of 0 (which the configuration refuses) acts like 1.
bool Tracker::judge_while_up(Verdict seen, const std::string& reason) {
  if (seen == Verdict::Up) {
    if (failures_ == 0) return false;
    successes_ = std::min(successes_ + 1, rise_);
    if (successes_ >= rise_) {
      failures_ = successes_ = 0;
      judged_reason_.clear();
    }
    return false;
  }
  successes_ = 0;
  failures_ = std::min(failures_ + 1, fall_);
  if (failures_ >= fall_) {
    // The latest bad result says which kind of trouble it is.
    move_to(seen, reason);
    return true;
  }
  judged_reason_ = reason + " (" + std::to_string(failures_) + " of " + std::to_string(fall_) +
                   " failures)";
  return false;
}

// Out of the answers, every move (back up, or to another kind of trouble) takes
// `rise` consecutive results on one side of the current verdict, and goes only as
// far as all of them reach: down, then stale and up, is stale.
bool Tracker::judge_while_out(Verdict seen, const std::string& reason) {
  if (seen == judged_) {
    streak_ = 0;
    judged_reason_ = reason;
    return false;
  }
  bool better = seen < judged_;
  bool same_side = streak_ > 0 && (streak_verdict_ < judged_) == better;
  if (!same_side) {
    streak_ = 0;
    streak_verdict_ = seen;
  }
  // The verdict nearest to the current one is what every result of the streak supports.
  if (better ? seen >= streak_verdict_ : seen <= streak_verdict_) {
    streak_verdict_ = seen;
    streak_reason_ = reason;
  }
  streak_ = std::min(streak_ + 1, rise_);
  if (streak_ < rise_) return false;
  move_to(streak_verdict_, streak_verdict_ == Verdict::Up ? std::string() : streak_reason_);
  return true;
}

void Tracker::move_to(Verdict verdict, const std::string& reason) {
  judged_ = verdict;
  judged_reason_ = reason;
  failures_ = successes_ = streak_ = 0;
}

void Tracker::note_change(TimePoint now) {
  last_change_ = now;
  changes_.push_back(now);
  // Only whether there are more than `changes` matters: the history stays that short.
  while (!changes_.empty() &&
         (now - changes_.front() > flap_.window || changes_.size() > flap_.changes + 1)) {
    changes_.pop_front();
  }
  if (changes_.size() > flap_.changes) flapping_ = true;
}

// A flapping address comes back once its verdict has held for the hold-down time;
// the count of changes starts afresh then. Checked at each result.
void Tracker::update_flapping(TimePoint now) {
  if (!flapping_ || now - last_change_ < flap_.hold_down) return;
  flapping_ = false;
  changes_.clear();
}

void Tracker::publish(TimePoint now) {
  Verdict verdict = flapping_ ? Verdict::Flapping : judged_;
  if (flapping_) {
    health_.reason = "flapping: " + std::to_string(changes_.size()) + " changes within " +
                     format_duration(std::chrono::duration_cast<Seconds>(flap_.window)) +
                     ", now " + to_string(judged_);
    if (!judged_reason_.empty()) health_.reason += " (" + judged_reason_ + ")";
  } else {
    health_.reason = judged_reason_;
  }
  if (verdict != health_.verdict) health_.last_transition = now;
  health_.verdict = verdict;
}

}  // namespace geosteer::healthcheck
