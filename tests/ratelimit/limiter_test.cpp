#include "ratelimit/limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace geosteer::ratelimit {
namespace {

using namespace std::chrono_literals;
using Clock = Limiter::Clock;

const SipHashKey kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
// The injected clock: any point will do, the limiter only compares them.
const Clock::time_point kStart = Clock::time_point{} + 1000s;

IpAddress address(const char* text) { return *IpAddress::parse(text); }

// "www.example.org." in wire form.
const std::string kWww{"\3www\7example\3org\0", 17};
const std::string kMail{"\4mail\7example\3org\0", 18};
const std::string kZone{"\7example\3org\0", 13};

Response answer(const char* client, std::string_view name = kWww, uint16_t qtype = 1) {
  return {address(client), ResponseClass::Answer, name, qtype};
}

Settings settings(unsigned rate, unsigned slip = 2, std::chrono::seconds window = 2s) {
  Settings s;
  s.responses_per_second = rate;
  s.slip = slip;
  s.window = window;
  s.table_entries = 1024;
  return s;
}

// How many of `count` checks at `at` are sent.
int sends(Limiter& limiter, const Response& response, int count, Clock::time_point at) {
  int sent = 0;
  for (int i = 0; i < count; ++i) sent += limiter.check(response, at) == Verdict::Send;
  return sent;
}

TEST(Limiter, AnIdleClientGetsOneSecondOfResponsesAtOnce) {
  Limiter limiter(settings(10), kKey);
  EXPECT_EQ(sends(limiter, answer("192.0.2.1"), 10, kStart), 10);
  EXPECT_NE(limiter.check(answer("192.0.2.1"), kStart), Verdict::Send);
}

TEST(Limiter, CreditComesBackAtTheRate) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1"), 10, kStart), 10);
  // 100 ms buys one response at 10 per second, and only one.
  EXPECT_EQ(limiter.check(answer("192.0.2.1"), kStart + 100ms), Verdict::Send);
  EXPECT_NE(limiter.check(answer("192.0.2.1"), kStart + 100ms), Verdict::Send);
}

TEST(Limiter, LimitedResponsesAreDebitedToo) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1"), 10, kStart), 10);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1"), 2, kStart), 0);
  // The two limited ones took the credit of the next 200 ms: without them, 250 ms
  // would have bought two responses.
  EXPECT_NE(limiter.check(answer("192.0.2.1"), kStart + 250ms), Verdict::Send);
}

TEST(Limiter, ASteadyClientAtTheRateIsNeverLimited) {
  Limiter limiter(settings(10), kKey);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.check(answer("192.0.2.1"), kStart + i * 100ms), Verdict::Send) << i;
  }
}

TEST(Limiter, EverySlipthDropIsATruncatedReply) {
  Limiter limiter(settings(1, 3), kKey);
  ASSERT_EQ(limiter.check(answer("192.0.2.1"), kStart), Verdict::Send);
  std::vector<Verdict> verdicts;
  for (int i = 0; i < 6; ++i) verdicts.push_back(limiter.check(answer("192.0.2.1"), kStart));
  EXPECT_EQ(verdicts, (std::vector<Verdict>{Verdict::Drop, Verdict::Drop, Verdict::Slip,
                                            Verdict::Drop, Verdict::Drop, Verdict::Slip}));
}

TEST(Limiter, SlipZeroDropsEverything) {
  Limiter limiter(settings(1, 0), kKey);
  ASSERT_EQ(limiter.check(answer("192.0.2.1"), kStart), Verdict::Send);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.check(answer("192.0.2.1"), kStart), Verdict::Drop);
}

TEST(Limiter, SlipOneTruncatesEveryLimitedResponse) {
  Limiter limiter(settings(1, 1), kKey);
  ASSERT_EQ(limiter.check(answer("192.0.2.1"), kStart), Verdict::Send);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.check(answer("192.0.2.1"), kStart), Verdict::Slip);
}

TEST(Limiter, AFloodIsAnsweredAtMostAtTheRate) {
  Limiter limiter(settings(100), kKey);
  int sent = 0;
  for (int i = 0; i < 10000; ++i) sent += limiter.check(answer("192.0.2.1"), kStart + i * 200us) == Verdict::Send;
  // 2 s of flood: the first second's credit, and nothing once the debt is full.
  EXPECT_GE(sent, 100);
  EXPECT_LE(sent, 300);
}

TEST(Limiter, AFloodStaysLimitedForTheWindowAfterItStops) {
  Limiter limiter(settings(10, 2, 2s), kKey);
  for (int i = 0; i < 1000; ++i) limiter.check(answer("192.0.2.1"), kStart + i * 1ms);
  Clock::time_point end = kStart + 1s;
  EXPECT_NE(limiter.check(answer("192.0.2.1"), end + 1500ms), Verdict::Send);
}

TEST(Limiter, AFloodIsForgivenOnceTheWindowHasPassed) {
  Limiter limiter(settings(10, 2, 2s), kKey);
  for (int i = 0; i < 1000; ++i) limiter.check(answer("192.0.2.1"), kStart + i * 1ms);
  Clock::time_point end = kStart + 1s;
  EXPECT_EQ(limiter.check(answer("192.0.2.1"), end + 2200ms), Verdict::Send);
}

TEST(Limiter, AddressesInOneIpv4NetworkShareTheirAccount) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1"), 10, kStart), 10);
  EXPECT_NE(limiter.check(answer("192.0.2.200"), kStart), Verdict::Send);
  EXPECT_EQ(limiter.check(answer("192.0.3.1"), kStart), Verdict::Send);
}

TEST(Limiter, AddressesInOneIpv6Slash56ShareTheirAccount) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, answer("2001:db8:0:100::1"), 10, kStart), 10);
  EXPECT_NE(limiter.check(answer("2001:db8:0:1ff::2"), kStart), Verdict::Send);
  EXPECT_EQ(limiter.check(answer("2001:db8:0:200::1"), kStart), Verdict::Send);
}

TEST(Limiter, ThePrefixLengthsAreSettings) {
  Settings s = settings(10);
  s.ipv4_prefix = 32;
  Limiter limiter(s, kKey);
  ASSERT_EQ(sends(limiter, answer("127.0.0.1"), 10, kStart), 10);
  EXPECT_EQ(limiter.check(answer("127.0.0.2"), kStart), Verdict::Send);
}

TEST(Limiter, EachNameAndTypeOfAnswerHasItsOwnAccount) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1", kWww, 1), 10, kStart), 10);
  EXPECT_EQ(limiter.check(answer("192.0.2.1", kMail, 1), kStart), Verdict::Send);
  EXPECT_EQ(limiter.check(answer("192.0.2.1", kWww, 28), kStart), Verdict::Send);
}

TEST(Limiter, NoDataForAnyTypeOfOneNameSharesAnAccount) {
  Limiter limiter(settings(10), kKey);
  Response nodata{address("192.0.2.1"), ResponseClass::NoData, kWww, 99};
  ASSERT_EQ(sends(limiter, nodata, 10, kStart), 10);
  nodata.qtype = 100;
  EXPECT_NE(limiter.check(nodata, kStart), Verdict::Send);
  EXPECT_EQ(limiter.check({address("192.0.2.1"), ResponseClass::NoData, kMail, 99}, kStart),
            Verdict::Send);
}

TEST(Limiter, NxDomainsOfOneZoneShareAnAccount) {
  Limiter limiter(settings(10), kKey);
  Response nxdomain{address("192.0.2.1"), ResponseClass::NxDomain, kZone, 1};
  ASSERT_EQ(sends(limiter, nxdomain, 10, kStart), 10);
  nxdomain.qtype = 28;  // the type does not matter, the name is the zone's
  EXPECT_NE(limiter.check(nxdomain, kStart), Verdict::Send);
}

TEST(Limiter, ErrorsShareOneAccountPerNetwork) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, {address("192.0.2.1"), ResponseClass::Error, kWww, 1}, 10, kStart), 10);
  EXPECT_NE(limiter.check({address("192.0.2.9"), ResponseClass::Error, kMail, 16}, kStart),
            Verdict::Send);
}

TEST(Limiter, ClassesAreSeparateAccounts) {
  Limiter limiter(settings(10), kKey);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1", kWww, 16), 10, kStart), 10);
  Response explanation{address("192.0.2.1"), ResponseClass::Explanation, kWww, 16};
  EXPECT_EQ(limiter.check(explanation, kStart), Verdict::Send);
}

TEST(Limiter, ExemptNetworksAreNeverLimited) {
  Settings s = settings(1);
  s.exempt = {*IpPrefix::parse("192.0.2.0/28")};
  Limiter limiter(s, kKey);
  EXPECT_EQ(sends(limiter, answer("192.0.2.1"), 50, kStart), 50);
  EXPECT_EQ(sends(limiter, answer("192.0.2.16"), 50, kStart), 1);
}

TEST(Limiter, DisabledItSendsEverything) {
  Settings s = settings(1);
  s.enabled = false;
  Limiter limiter(s, kKey);
  EXPECT_EQ(sends(limiter, answer("192.0.2.1"), 50, kStart), 50);
}

TEST(Limiter, ThreadsSharingAnAccountGetTheRateBetweenThemAll) {
  Limiter limiter(settings(100), kKey);
  std::atomic<int> sent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { sent += sends(limiter, answer("192.0.2.1"), 1000, kStart); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(sent.load(), 100);
}

TEST(Limiter, AFullTableGivesUpIdleAccountsBeforeLimitedOnes) {
  Settings s = settings(10);
  s.table_entries = 4;  // a single bucket
  Limiter limiter(s, kKey);
  ASSERT_EQ(sends(limiter, answer("192.0.2.1"), 20, kStart), 10);  // limited, in debt
  for (const char* other : {"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"}) {
    ASSERT_EQ(limiter.check(answer(other), kStart), Verdict::Send);
  }
  EXPECT_NE(limiter.check(answer("192.0.2.1"), kStart + 10ms), Verdict::Send);
}

}  // namespace
}  // namespace geosteer::ratelimit
