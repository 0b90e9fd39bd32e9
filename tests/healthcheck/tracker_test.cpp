#include "healthcheck/tracker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace geosteer::healthcheck {
namespace {

using Clock = std::chrono::system_clock;

ProbeSettings thresholds(unsigned rise, unsigned fall, bool initial_up = true) {
  ProbeSettings settings;
  settings.rise = rise;
  settings.fall = fall;
  settings.initial_up = initial_up;
  return settings;
}

ProbeResult result(Outcome outcome, std::string reason = "") {
  ProbeResult r;
  r.outcome = outcome;
  r.reason = std::move(reason);
  r.http_status = outcome == Outcome::Failed ? 503 : 200;
  return r;
}

ProbeResult ok() { return result(Outcome::Ok); }
ProbeResult failed(std::string reason = "HTTP 503") { return result(Outcome::Failed, reason); }
ProbeResult stale(std::string reason = "stale: lag 9h > 6h") {
  return result(Outcome::Stale, reason);
}

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1000);

TEST(Tracker, StartsUpAndUnprobedByDefault) {
  Tracker tracker(thresholds(2, 3));
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_EQ(tracker.health().reason, "");
  EXPECT_FALSE(tracker.health().probed);
}

TEST(Tracker, StartsDownWhenConfiguredSo) {
  Tracker tracker(thresholds(2, 3, false));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_EQ(tracker.health().reason, "initial state");
  EXPECT_FALSE(tracker.health().probed);
}

TEST(Tracker, RecordsTheLatestProbeWhateverTheVerdict) {
  Tracker tracker(thresholds(2, 3));
  ProbeResult r = stale();
  r.first_byte_ms = 42.5;
  r.lag_seconds = 32400;
  EXPECT_FALSE(tracker.record(r, kT0));
  const MirrorHealth& h = tracker.health();
  EXPECT_TRUE(h.probed);
  EXPECT_EQ(h.verdict, Verdict::Up);  // one bad result is not yet a verdict
  EXPECT_EQ(h.http_status, 200);
  EXPECT_EQ(h.latency_ms, 42.5);
  EXPECT_EQ(h.lag_seconds, 32400);
  EXPECT_EQ(h.last_probe, kT0);

  EXPECT_FALSE(tracker.record(failed(), kT0 + std::chrono::seconds(30)));
  EXPECT_EQ(h.http_status, 503);
  EXPECT_FALSE(h.latency_ms.has_value());
  EXPECT_FALSE(h.lag_seconds.has_value());
  EXPECT_EQ(h.last_probe, kT0 + std::chrono::seconds(30));
}

TEST(Tracker, FallConsecutiveFailuresTakeItDown) {
  Tracker tracker(thresholds(2, 3));
  EXPECT_FALSE(tracker.record(failed("connect refused"), kT0));
  EXPECT_FALSE(tracker.record(failed("connect refused"), kT0));
  EXPECT_TRUE(tracker.record(failed("timeout after 5s"), kT0 + std::chrono::seconds(60)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_EQ(tracker.health().reason, "timeout after 5s");
  EXPECT_EQ(tracker.health().last_transition, kT0 + std::chrono::seconds(60));
}

TEST(Tracker, TheLastBadResultDecidesTheVerdict) {
  Tracker stale_tracker(thresholds(2, 2));
  stale_tracker.record(failed(), kT0);
  EXPECT_TRUE(stale_tracker.record(stale(), kT0));
  EXPECT_EQ(stale_tracker.health().verdict, Verdict::Stale);

  Tracker slow_tracker(thresholds(2, 1));
  EXPECT_TRUE(slow_tracker.record(result(Outcome::Slow, "first byte after 1200ms"), kT0));
  EXPECT_EQ(slow_tracker.health().verdict, Verdict::Slow);
  EXPECT_EQ(slow_tracker.health().reason, "first byte after 1200ms");
}

TEST(Tracker, RiseConsecutiveSuccessesBringItBack) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(failed(), kT0);
  EXPECT_FALSE(tracker.record(ok(), kT0 + std::chrono::seconds(10)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_TRUE(tracker.record(ok(), kT0 + std::chrono::seconds(20)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_EQ(tracker.health().reason, "");
  EXPECT_EQ(tracker.health().last_transition, kT0 + std::chrono::seconds(20));
}

TEST(Tracker, InitiallyDownNeedsRiseSuccesses) {
  Tracker tracker(thresholds(3, 3, false));
  EXPECT_FALSE(tracker.record(ok(), kT0));
  EXPECT_FALSE(tracker.record(ok(), kT0));
  EXPECT_TRUE(tracker.record(ok(), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
}

TEST(Tracker, SuccessesWhileUpAreNoTransition) {
  Tracker tracker(thresholds(1, 3));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(tracker.record(ok(), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_EQ(tracker.health().last_transition, Clock::time_point{});
}

TEST(Tracker, DownMirrorNeedsRiseStaleResultsToBecomeStale) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(failed("connect refused"), kT0);
  ASSERT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_FALSE(tracker.record(stale(), kT0 + std::chrono::seconds(5)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);  // one probe moves nothing
  EXPECT_EQ(tracker.health().reason, "connect refused");
  EXPECT_TRUE(tracker.record(stale(), kT0 + std::chrono::seconds(10)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Stale);
  EXPECT_EQ(tracker.health().reason, "stale: lag 9h > 6h");
  EXPECT_EQ(tracker.health().last_transition, kT0 + std::chrono::seconds(10));
}

TEST(Tracker, StaleMirrorNeedsRiseFailuresToGoDown) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(stale(), kT0);
  ASSERT_EQ(tracker.health().verdict, Verdict::Stale);
  EXPECT_FALSE(tracker.record(failed("connect refused"), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Stale);
  EXPECT_TRUE(tracker.record(failed("connect refused"), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_EQ(tracker.health().reason, "connect refused");
}

TEST(Tracker, ResultOfTheCurrentVerdictRestartsTheCountToLeaveIt) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(failed(), kT0);
  EXPECT_FALSE(tracker.record(ok(), kT0));
  EXPECT_FALSE(tracker.record(failed(), kT0));
  EXPECT_FALSE(tracker.record(ok(), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
}

TEST(Tracker, LeavingDownGoesOnlyAsFarAsEveryResultOfTheStreakReaches) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(failed(), kT0);
  EXPECT_FALSE(tracker.record(stale(), kT0));
  EXPECT_TRUE(tracker.record(ok(), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Stale);
  EXPECT_EQ(tracker.health().reason, "stale: lag 9h > 6h");
}

TEST(Tracker, BetterAndWorseResultsMixedNeverLeaveABadVerdict) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(stale(), kT0);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(tracker.record(i % 2 == 0 ? ok() : failed(), kT0));
  }
  EXPECT_EQ(tracker.health().verdict, Verdict::Stale);
}

TEST(Tracker, SameTroubleWithANewReasonIsNoTransition) {
  Tracker tracker(thresholds(2, 1));
  tracker.record(failed("HTTP 503"), kT0);
  EXPECT_FALSE(tracker.record(failed("connect refused"), kT0 + std::chrono::seconds(5)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_EQ(tracker.health().reason, "connect refused");
  EXPECT_EQ(tracker.health().last_transition, kT0);
}

TEST(Tracker, FailuresWithSuccessesBetweenStillAddUp) {
  Tracker tracker(thresholds(2, 3));
  EXPECT_FALSE(tracker.record(failed(), kT0));
  EXPECT_FALSE(tracker.record(ok(), kT0));  // one success clears nothing
  EXPECT_FALSE(tracker.record(failed(), kT0));
  EXPECT_FALSE(tracker.record(ok(), kT0));
  EXPECT_TRUE(tracker.record(failed(), kT0));  // the third failure
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
}

TEST(Tracker, RiseSuccessesInARowClearTheFailures) {
  Tracker tracker(thresholds(2, 3));
  tracker.record(failed(), kT0);
  tracker.record(failed(), kT0);
  tracker.record(ok(), kT0);
  tracker.record(ok(), kT0);  // the two failures are forgotten
  EXPECT_FALSE(tracker.record(failed(), kT0));
  EXPECT_FALSE(tracker.record(failed(), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_TRUE(tracker.record(failed(), kT0));
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
}

TEST(Tracker, PendingFailuresShowInTheReasonWhileUp) {
  Tracker tracker(thresholds(2, 3));
  tracker.record(failed("HTTP 503"), kT0);
  tracker.record(ok(), kT0);
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_EQ(tracker.health().reason, "HTTP 503 (1 of 3 failures)");
  tracker.record(ok(), kT0);
  EXPECT_EQ(tracker.health().reason, "");
}

// One probe a second for 600 s, as in the trial that found the defects.
constexpr int kTrialProbes = 600;

TEST(Tracker, MirrorFailingEveryOtherProbeGoesDownAndStaysDown) {
  Tracker tracker(thresholds(2, 2));
  int transitions = 0;
  for (int i = 0; i < kTrialProbes; ++i) {
    transitions += tracker.record(i % 2 == 0 ? ok() : failed(), kT0 + std::chrono::seconds(i));
  }
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
  EXPECT_EQ(tracker.health().reason, "HTTP 503");
  EXPECT_EQ(tracker.health().last_transition, kT0 + std::chrono::seconds(3));  // fall failures
  EXPECT_EQ(transitions, 1);
}

TEST(Tracker, MirrorUpUpDownDownIsMarkedFlappingAndStaysOut) {
  ProbeSettings settings = thresholds(2, 2);
  settings.flapping = {4, std::chrono::minutes(10), std::chrono::minutes(5)};
  Tracker tracker(settings);
  int transitions = 0, probes_answered = 0;
  for (int i = 0; i < kTrialProbes; ++i) {
    bool good = i % 4 < 2;
    transitions += tracker.record(good ? ok() : failed(), kT0 + std::chrono::seconds(i));
    probes_answered += tracker.health().usable();
  }
  EXPECT_EQ(tracker.health().verdict, Verdict::Flapping);
  EXPECT_EQ(tracker.health().reason.rfind("flapping: ", 0), 0u) << tracker.health().reason;
  // down, up, down, up, then the fifth change within the window: flapping for good.
  EXPECT_EQ(transitions, 5);
  EXPECT_LE(probes_answered, 12);
}

TEST(Tracker, FlappingMirrorComesBackOnceItHeldStillForTheHoldDown) {
  ProbeSettings settings = thresholds(1, 1);
  settings.flapping = {2, std::chrono::minutes(10), std::chrono::minutes(5)};
  Tracker tracker(settings);
  tracker.record(failed(), kT0);
  tracker.record(ok(), kT0 + std::chrono::seconds(1));
  EXPECT_TRUE(tracker.record(failed(), kT0 + std::chrono::seconds(2)));
  ASSERT_EQ(tracker.health().verdict, Verdict::Flapping);
  EXPECT_FALSE(tracker.record(ok(), kT0 + std::chrono::seconds(3)));  // still flapping
  EXPECT_FALSE(tracker.record(ok(), kT0 + std::chrono::seconds(3) + std::chrono::minutes(4)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Flapping);
  EXPECT_TRUE(tracker.record(ok(), kT0 + std::chrono::seconds(3) + std::chrono::minutes(5)));
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_EQ(tracker.health().reason, "");
}

TEST(Tracker, ChangesSpreadWiderThanTheWindowAreNoFlapping) {
  ProbeSettings settings = thresholds(1, 1);
  settings.flapping = {2, std::chrono::minutes(10), std::chrono::minutes(5)};
  Tracker tracker(settings);
  for (int i = 0; i < 10; ++i) {
    tracker.record(i % 2 == 0 ? failed() : ok(), kT0 + std::chrono::minutes(6) * i);
    EXPECT_NE(tracker.health().verdict, Verdict::Flapping) << i;
  }
}

TEST(Tracker, ReconfiguredThresholdsJudgeTheNextResultWithTheCountersKept) {
  Tracker tracker(thresholds(2, 3));
  tracker.record(failed(), kT0);
  tracker.record(failed(), kT0);
  ProbeSettings fewer = thresholds(2, 2);
  fewer.jitter = 0.5;
  tracker.reconfigure(fewer);
  EXPECT_EQ(tracker.health().verdict, Verdict::Up);
  EXPECT_TRUE(tracker.record(failed(), kT0));  // the third failure, over a fall of 2
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
}

TEST(Tracker, FreshnessIsUnknownUntilAProbeChecksIt) {
  Tracker tracker(thresholds(2, 3));
  EXPECT_FALSE(tracker.health().fresh.has_value());
  tracker.record(failed("connect refused"), kT0);
  EXPECT_FALSE(tracker.health().fresh.has_value());
  ProbeResult checked = stale();
  checked.fresh = false;
  tracker.record(checked, kT0);
  EXPECT_EQ(tracker.health().fresh, false);
}

TEST(Tracker, AlternatingResultsNeverBringADownMirrorBack) {
  Tracker tracker(thresholds(2, 3, false));
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(tracker.record(ok(), kT0));
    EXPECT_FALSE(tracker.record(failed(), kT0));
  }
  EXPECT_EQ(tracker.health().verdict, Verdict::Down);
}

TEST(Tracker, ZeroThresholdsActLikeOne) {
  Tracker tracker(thresholds(0, 0));
  EXPECT_TRUE(tracker.record(failed(), kT0));
  EXPECT_TRUE(tracker.record(ok(), kT0));
}

TEST(VerdictOf, MapsEachOutcome) {
  EXPECT_EQ(verdict_of(Outcome::Ok), Verdict::Up);
  EXPECT_EQ(verdict_of(Outcome::Failed), Verdict::Down);
  EXPECT_EQ(verdict_of(Outcome::Stale), Verdict::Stale);
  EXPECT_EQ(verdict_of(Outcome::Slow), Verdict::Slow);
}

}  // namespace
}  // namespace geosteer::healthcheck
