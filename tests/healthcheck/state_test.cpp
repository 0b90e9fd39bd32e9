// What steering reads from the published health state.
#include "healthcheck/state.h"

#include <gtest/gtest.h>

namespace geosteer::healthcheck {
namespace {

TEST(HealthStateVerdict, FamiliesJudgedApartAnswerForThemselves) {
  HealthState state = HealthState::all_up(1);
  state.by_family = {{Verdict::Up, Verdict::Down}};
  EXPECT_EQ(state.verdict(0, Family::V4), Verdict::Up);
  EXPECT_EQ(state.verdict(0, Family::V6), Verdict::Down);
}

TEST(HealthStateVerdict, WithoutFamiliesTheMirrorVerdictHoldsForBoth) {
  HealthState state = HealthState::all_up(1);
  state.mirrors[0].verdict = Verdict::Stale;
  EXPECT_EQ(state.verdict(0, Family::V4), Verdict::Stale);
  EXPECT_EQ(state.verdict(0, Family::V6), Verdict::Stale);
}

TEST(HealthStateVerdict, MirrorAddedSinceTheStateCountsAsUp) {
  EXPECT_EQ(HealthState::all_up(1).verdict(5, Family::V6), Verdict::Up);
}

}  // namespace
}  // namespace geosteer::healthcheck
