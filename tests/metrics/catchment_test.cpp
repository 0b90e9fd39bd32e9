// Who goes where: the query threads' rings of answer samples, their sampling at
// high rates, the grouping by mirror and location cell, and the query rate history.
// Time is passed in, never waited for.
#include "metrics/catchment.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "metrics/query_metrics.h"
#include "metrics/query_rate.h"

namespace geosteer::metrics {
namespace {

constexpr uint32_t kWindow = 300;

IpAddress v4(uint8_t a, uint8_t b, uint8_t c) { return IpAddress::v4({a, b, c, 0}); }

// The network of the i-th distinct client: 10.x.y.0/24.
IpAddress client(size_t i) {
  return v4(10, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i & 0xFF));
}

std::vector<CatchmentSample> collect(const CatchmentRing& ring, uint32_t now,
                                     uint32_t window = kWindow) {
  std::vector<CatchmentSample> out;
  ring.collect(now, window, out);
  return out;
}

uint64_t weighted(const std::vector<CatchmentSample>& samples) {
  uint64_t total = 0;
  for (const CatchmentSample& s : samples) total += s.weight;
  return total;
}

// ---- the ring ------------------------------------------------------------------

TEST(CatchmentRing, RecordsTimeMirrorAndClientNetworkOfEachAnswer) {
  CatchmentRing ring;
  ring.record(1000, kWindow, 7, v4(130, 149, 7), 24);
  IpAddress v6 = *IpAddress::parse("2001:638:809::");
  ring.record(1001, kWindow, 4095, v6, 48);

  auto samples = collect(ring, 1001);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].time, 1000u);
  EXPECT_EQ(samples[0].label, 7u);
  EXPECT_EQ(samples[0].network, v4(130, 149, 7));
  EXPECT_EQ(samples[0].prefix, 24);
  EXPECT_EQ(samples[0].weight, 1u);
  EXPECT_EQ(samples[1].label, 4095u);
  EXPECT_EQ(samples[1].network, v6);
  EXPECT_EQ(samples[1].network.family, Family::V6);
  EXPECT_EQ(samples[1].prefix, 48);
}

TEST(CatchmentRing, EmptyRingHasNoSamples) {
  CatchmentRing ring;
  EXPECT_TRUE(collect(ring, 1000).empty());
}

TEST(CatchmentRing, OverwritesTheOldestSampleWhenFull) {
  CatchmentRing ring;
  const size_t extra = 10;
  // One answer a second never samples: every answer is kept until the ring is full,
  // then the newest replace the oldest.
  for (size_t i = 0; i < CatchmentRing::kSize + extra; ++i) {
    ring.record(static_cast<uint32_t>(i), kWindow, static_cast<uint32_t>(i % 4000), client(i), 24);
  }
  auto samples = collect(ring, static_cast<uint32_t>(CatchmentRing::kSize + extra), 1000000);
  ASSERT_EQ(samples.size(), CatchmentRing::kSize);
  std::map<uint32_t, uint32_t> label_of_time;
  for (const CatchmentSample& s : samples) label_of_time[s.time] = s.label;
  EXPECT_EQ(label_of_time.begin()->first, extra);  // the first `extra` are gone
  EXPECT_EQ(label_of_time.rbegin()->first, CatchmentRing::kSize + extra - 1);
  for (const CatchmentSample& s : samples) {
    EXPECT_EQ(s.label, s.time % 4000);
    EXPECT_EQ(s.network, client(s.time));
  }
}

TEST(CatchmentRing, IgnoresSamplesOlderThanTheWindow) {
  CatchmentRing ring;
  ring.record(100, kWindow, 1, client(1), 24);
  ring.record(150, kWindow, 2, client(2), 24);  // exactly a window old at 450: kept
  ring.record(400, kWindow, 3, client(3), 24);
  auto samples = collect(ring, 450);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].label, 2u);
  EXPECT_EQ(samples[1].label, 3u);
  EXPECT_TRUE(collect(ring, 10000).empty());
}

TEST(CatchmentRing, ASampleStampedAfterTheReadersClockIsRecent) {
  CatchmentRing ring;
  ring.record(501, kWindow, 1, client(1), 24);
  EXPECT_EQ(collect(ring, 500).size(), 1u);
}

TEST(CatchmentRing, RecordsEveryAnswerAtLowRates) {
  CatchmentRing ring;
  for (uint32_t t = 1; t <= 1200; ++t) ring.record(t, kWindow, 1, client(t), 24);
  auto samples = collect(ring, 1200);
  EXPECT_EQ(samples.size(), kWindow + 1);  // ages 0 to 300
  EXPECT_EQ(weighted(samples), kWindow + 1);
  EXPECT_EQ(ring.sampling(), 1u);
}

// 1,000 answers a second for 20 minutes: far more than the ring holds for the window.
void answer_at_a_thousand_a_second(CatchmentRing& ring, uint32_t from, uint32_t seconds) {
  for (uint32_t t = from; t < from + seconds; ++t) {
    for (size_t i = 0; i < 1000; ++i) ring.record(t, kWindow, 1, client(i), 24);
  }
}

TEST(CatchmentRing, SamplesOneInNAtHighRatesAndWeighsEachSampleByN) {
  CatchmentRing ring;
  answer_at_a_thousand_a_second(ring, 1, 1200);
  EXPECT_GT(ring.sampling(), 1u);
  auto samples = collect(ring, 1200);
  for (const CatchmentSample& s : samples) EXPECT_EQ(s.weight, ring.sampling());
  // The window's 301 seconds of 1,000 answers, within a sample's weight or two.
  EXPECT_NEAR(static_cast<double>(weighted(samples)), 301000.0, 2.0 * ring.sampling());
}

TEST(CatchmentRing, SamplingFollowsTheRateBackDown) {
  CatchmentRing ring;
  answer_at_a_thousand_a_second(ring, 1, 600);
  ASSERT_GT(ring.sampling(), 1u);
  for (uint32_t t = 601; t <= 610; ++t) ring.record(t, kWindow, 2, client(t), 24);
  EXPECT_EQ(ring.sampling(), 1u);
  // The quiet seconds are recorded in full, the busy ones before still weighed.
  uint64_t quiet = 0;
  for (const CatchmentSample& s : collect(ring, 610)) {
    if (s.label == 2) quiet += s.weight;
  }
  EXPECT_EQ(quiet, 9u);  // the first quiet answer still had the busy seconds' sampling
}

TEST(CatchmentRing, AReaderSeesOnlyWholeSamplesWhileTheWriterWrites) {
  CatchmentRing ring;
  std::atomic<bool> done{false};
  // The writer's label and network always match: a torn sample would not.
  std::thread writer([&] {
    for (uint32_t i = 0; i < 400000; ++i) {
      uint32_t label = i % 4000;
      ring.record(1, 1000000, label, client(label), static_cast<uint8_t>(label % 33));
    }
    done = true;
  });
  while (!done) {
    for (const CatchmentSample& s : collect(ring, 1, 1000000)) {
      ASSERT_EQ(s.network, client(s.label));
      ASSERT_EQ(s.prefix, s.label % 33);
    }
  }
  writer.join();
  EXPECT_EQ(collect(ring, 1, 1000000).size(), CatchmentRing::kSize);
}

// ---- QueryMetrics: a ring per thread --------------------------------------------

TEST(QueryMetricsCatchment, CollectsTheSamplesOfEveryThread) {
  QueryMetrics metrics;
  uint32_t berlin = metrics.answer_label("s.", "berlin");
  uint32_t tokyo = metrics.answer_label("s.", "tokyo");
  metrics.record_catchment(berlin, v4(130, 149, 7), 24);
  std::thread([&] { metrics.record_catchment(tokyo, v4(133, 11, 0), 24); }).join();
  auto samples = metrics.catchment_samples(catchment_clock());
  ASSERT_EQ(samples.size(), 2u);
  std::map<uint32_t, IpAddress> network_of;
  for (const CatchmentSample& s : samples) network_of[s.label] = s.network;
  EXPECT_EQ(network_of.at(berlin), v4(130, 149, 7));
  EXPECT_EQ(network_of.at(tokyo), v4(133, 11, 0));
  auto names = metrics.answer_label_names();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[tokyo], std::make_pair(std::string("s."), std::string("tokyo")));
}

TEST(QueryMetricsCatchment, TotalQueriesSumsEveryTransportTypeAndRcode) {
  QueryMetrics metrics;
  metrics.count_query(Transport::Udp, 1, 0);
  metrics.count_query(Transport::Tcp, 28, 3);
  std::thread([&] { metrics.count_query(Transport::Udp, 999, 99); }).join();
  metrics.count_dropped(DropReason::Malformed);  // not answered: not a query of the rate
  EXPECT_EQ(metrics.total_queries(), 3u);
}

// ---- grouping ------------------------------------------------------------------

// A fixed GeoIP: 130.149/16 Berlin, 141.20/16 Potsdam (same 2-degree cell as Berlin),
// 133.11/16 Tokyo, everything else unknown.
ClientPlace fake_locate(const IpAddress& network) {
  if (network.bytes[0] == 130 && network.bytes[1] == 149) return {true, 52.52, 13.40, "DE"};
  if (network.bytes[0] == 141 && network.bytes[1] == 20) return {true, 52.39, 13.06, "DE"};
  if (network.bytes[0] == 133 && network.bytes[1] == 11) return {true, 35.68, 139.69, "JP"};
  return {};
}

CatchmentSample sample(uint32_t label, IpAddress network, uint32_t weight = 1) {
  CatchmentSample s;
  s.time = 1000;
  s.label = label;
  s.weight = weight;
  s.network = network;
  s.prefix = 24;
  return s;
}

TEST(CatchmentCell, RoundsToTheTwoDegreeGrid) {
  CatchmentCell berlin = catchment_cell_of(52.52, 13.40);
  EXPECT_EQ(berlin.lat, 52);
  EXPECT_EQ(berlin.lon, 14);
  CatchmentCell london = catchment_cell_of(51.51, -0.13);  // rounded, not cut down
  EXPECT_EQ(london.lat, 52);
  EXPECT_EQ(london.lon, 0);
  CatchmentCell sydney = catchment_cell_of(-33.87, 151.21);
  EXPECT_EQ(sydney.lat, -34);
  EXPECT_EQ(sydney.lon, 152);
  // The antimeridian is one cell, on the west edge.
  EXPECT_EQ(catchment_cell_of(10, 179.6).lon, -180);
  EXPECT_EQ(catchment_cell_of(10, -179.6).lon, -180);
  EXPECT_EQ(catchment_cell_of(91, 0).lat, 90);
}

TEST(GroupCatchment, CountsAnswersPerMirrorAndLocationCell) {
  // Labels 0 and 1 are mirror 0 (two services), label 2 is mirror 1.
  std::vector<int> mirror_of_label = {0, 0, 1};
  std::vector<CatchmentSample> samples = {
      sample(0, v4(130, 149, 7)), sample(1, v4(130, 149, 8)),  // Berlin, two services
      sample(0, v4(141, 20, 1)),                                // Potsdam: Berlin's cell
      sample(0, v4(133, 11, 0)),                                // Tokyo, to mirror 0
      sample(2, v4(133, 11, 0)), sample(2, v4(133, 11, 0)),    // Tokyo, to mirror 1
  };
  auto catchments = group_catchment(samples, mirror_of_label, 2, fake_locate);
  ASSERT_EQ(catchments.size(), 2u);

  const auto& first = catchments[0].cells;
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].lat, 52);  // most answers first
  EXPECT_EQ(first[0].lon, 14);
  EXPECT_EQ(first[0].answers, 3u);
  EXPECT_EQ(first[0].countries, std::vector<std::string>{"DE"});
  EXPECT_EQ(first[1].lat, 36);
  EXPECT_EQ(first[1].lon, 140);
  EXPECT_EQ(first[1].answers, 1u);

  const auto& second = catchments[1].cells;
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].answers, 2u);
  EXPECT_EQ(second[0].countries, std::vector<std::string>{"JP"});
  EXPECT_FALSE(catchments[0].estimated);
}

TEST(GroupCatchment, LooksEachDistinctNetworkUpOnce) {
  std::vector<int> mirror_of_label = {0, 0};
  std::vector<CatchmentSample> samples = {sample(0, v4(130, 149, 7)), sample(1, v4(130, 149, 7)),
                                          sample(0, v4(130, 149, 7)), sample(0, v4(133, 11, 0))};
  int lookups = 0;
  auto counting = [&](const IpAddress& network) {
    ++lookups;
    return fake_locate(network);
  };
  group_catchment(samples, mirror_of_label, 1, counting);
  EXPECT_EQ(lookups, 2);
}

TEST(GroupCatchment, CountsUnlocatedClientsApart) {
  std::vector<int> mirror_of_label = {0};
  std::vector<CatchmentSample> samples = {sample(0, v4(127, 0, 0)), sample(0, v4(130, 149, 7))};
  auto catchments = group_catchment(samples, mirror_of_label, 1, fake_locate);
  EXPECT_EQ(catchments[0].unlocated, 1u);
  ASSERT_EQ(catchments[0].cells.size(), 1u);
  EXPECT_EQ(catchments[0].cells[0].answers, 1u);
}

TEST(GroupCatchment, CountsEachSampleByItsWeightAndSaysSo) {
  std::vector<int> mirror_of_label = {0};
  std::vector<CatchmentSample> samples = {sample(0, v4(130, 149, 7), 64),
                                          sample(0, v4(130, 149, 9), 64)};
  auto catchments = group_catchment(samples, mirror_of_label, 1, fake_locate);
  ASSERT_EQ(catchments[0].cells.size(), 1u);
  EXPECT_EQ(catchments[0].cells[0].answers, 128u);
  EXPECT_TRUE(catchments[0].estimated);
}

TEST(GroupCatchment, LeavesOutLabelsOfNoMirrorOfTheModel) {
  // Label 0: a mirror since removed by a reload; label 5: beyond the table.
  std::vector<int> mirror_of_label = {-1, 0};
  std::vector<CatchmentSample> samples = {sample(0, v4(130, 149, 7)), sample(5, v4(130, 149, 7)),
                                          sample(1, v4(133, 11, 0))};
  auto catchments = group_catchment(samples, mirror_of_label, 1, fake_locate);
  ASSERT_EQ(catchments[0].cells.size(), 1u);
  EXPECT_EQ(catchments[0].cells[0].countries, std::vector<std::string>{"JP"});
}

TEST(GroupCatchment, ListsTheCountriesOfACellMostAnswersFirst) {
  // Strasbourg (FR) and Kehl (DE) across the Rhine: one cell.
  auto locate = [](const IpAddress& network) -> ClientPlace {
    if (network.bytes[0] == 1) return {true, 48.58, 7.75, "FR"};
    return {true, 48.57, 7.81, "DE"};
  };
  std::vector<int> mirror_of_label = {0};
  std::vector<CatchmentSample> samples = {sample(0, v4(1, 0, 0)), sample(0, v4(2, 0, 0)),
                                          sample(0, v4(2, 0, 1))};
  auto catchments = group_catchment(samples, mirror_of_label, 1, locate);
  ASSERT_EQ(catchments[0].cells.size(), 1u);
  EXPECT_EQ(catchments[0].cells[0].countries, (std::vector<std::string>{"DE", "FR"}));
}

// ---- query rate ----------------------------------------------------------------

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

TEST(QueryRateHistory, GivesTheRateOfEachIntervalAtItsEnd) {
  QueryRateHistory history;
  Clock::time_point t0{};
  history.add(t0, 1000, 0);
  history.add(t0 + seconds(10), 1010, 50);
  history.add(t0 + seconds(20), 1020, 250);
  auto points = history.points();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].unix_time, 1010);
  EXPECT_DOUBLE_EQ(points[0].per_second, 5);
  EXPECT_EQ(points[1].unix_time, 1020);
  EXPECT_DOUBLE_EQ(points[1].per_second, 20);
}

TEST(QueryRateHistory, KeepsOnlyTheLastMinutes) {
  QueryRateHistory history(std::chrono::minutes(15));
  Clock::time_point t0{};
  for (int i = 0; i <= 180; ++i) history.add(t0 + seconds(10 * i), 1000 + 10 * i, 10u * i);
  auto points = history.points();
  ASSERT_EQ(points.size(), 90u);  // 15 minutes of 10-second intervals
  EXPECT_EQ(points.front().unix_time, 1000 + 10 * 91);
  EXPECT_EQ(points.back().unix_time, 1000 + 1800);
}

TEST(QueryRateHistory, HasNoRateBeforeTheSecondTotal) {
  QueryRateHistory history;
  EXPECT_TRUE(history.points().empty());
  history.add(Clock::time_point{}, 1000, 42);
  EXPECT_TRUE(history.points().empty());
}

}  // namespace
}  // namespace geosteer::metrics
