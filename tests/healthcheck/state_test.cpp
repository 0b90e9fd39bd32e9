// What steering reads from the published health state.
#include "healthcheck/state.h"

#include <gtest/gtest.h>

namespace geosteer::healthcheck {
namespace {

AddressHealth judged(IpAddress address, Verdict verdict) {
  AddressHealth a;
  a.address = address;
  a.health.verdict = verdict;
  return a;
}

const IpAddress kFirst = *IpAddress::parse("192.0.2.1");
const IpAddress kSecond = *IpAddress::parse("192.0.2.2");

TEST(HealthStateVerdict, EachProbedAddressAnswersForItself) {
  HealthState state = HealthState::all_up(1);
  state.addresses = {{judged(kFirst, Verdict::Up), judged(kSecond, Verdict::Down)}};
  EXPECT_EQ(state.verdict(0, kFirst), Verdict::Up);
  EXPECT_EQ(state.verdict(0, kSecond), Verdict::Down);
}

TEST(HealthStateVerdict, WithoutAddressesTheMirrorVerdictHoldsForEach) {
  HealthState state = HealthState::all_up(1);
  state.mirrors[0].verdict = Verdict::Stale;
  EXPECT_EQ(state.verdict(0, kFirst), Verdict::Stale);
  EXPECT_EQ(state.verdict(0, *IpAddress::parse("2001:db8::1")), Verdict::Stale);
}

TEST(HealthStateVerdict, AddressAddedSinceTheStateCountsAsUp) {
  HealthState state = HealthState::all_up(1);
  state.mirrors[0].verdict = Verdict::Down;
  state.addresses = {{judged(kFirst, Verdict::Down)}};
  EXPECT_EQ(state.verdict(0, kSecond), Verdict::Up);
}

TEST(HealthStateVerdict, MirrorAddedSinceTheStateCountsAsUp) {
  EXPECT_EQ(HealthState::all_up(1).verdict(5, kFirst), Verdict::Up);
}

}  // namespace
}  // namespace geosteer::healthcheck
