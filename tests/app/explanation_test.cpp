// The explanation behind `_geosteer.<service>` TXT and `geosteer locate`: the
// steering engine's decision put in a few short strings, on the test fixtures.
#include "app/explanation.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "app/loader.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"
#include "tests/support/allocation_counter.h"

namespace geosteer::app {
namespace {

using Strings = std::vector<std::string>;

std::shared_ptr<const Snapshot> load_test_config() {
  std::string path =
      testing::write_temp_file("explain.yaml", testing::expand(testing::test_config(), 5353));
  return build_snapshot(load_config(path, 1), nullptr);
}

// The character-strings of TXT RDATA; fails the test when the RDATA is not a whole
// number of them.
Strings character_strings(std::string_view rdata) {
  Strings out;
  while (!rdata.empty()) {
    size_t length = static_cast<uint8_t>(rdata[0]);
    EXPECT_LE(1 + length, rdata.size()) << "character-string runs past the RDATA";
    if (1 + length > rdata.size()) break;
    out.emplace_back(rdata.substr(1, length));
    rdata.remove_prefix(1 + length);
  }
  return out;
}

dns::ClientSubnet ecs_client(const char* prefix_text) {
  IpPrefix prefix = *IpPrefix::parse(prefix_text);
  return {prefix.address, prefix.length, true};
}

class SteeringAnswersExplain : public ::testing::Test {
 protected:
  Strings explain(const dns::ClientSubnet& client) {
    size_t length = snapshot->answers.explain(0, client, buffer);
    EXPECT_LE(length, sizeof buffer);
    return character_strings({buffer, length});
  }

  std::shared_ptr<const Snapshot> snapshot = load_test_config();
  char buffer[4096];
};

TEST_F(SteeringAnswersExplain, BerlinClientFromEcs) {
  Strings lines = explain(ecs_client("130.149.7.0/24"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "client 130.149.7.0/24 from ECS");
  EXPECT_EQ(lines[1], "location DE EU 52.5200,13.4000 network 130.149.0.0/16");
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(R"(A: berlin 0km up, bordeaux \d+km up )"
                                                    R"(\(distance, healthy, scope /6\))")))
      << lines[2];
  // berlin has no IPv6 address: bordeaux is the closest with one.
  EXPECT_TRUE(std::regex_match(lines[3], std::regex(R"(AAAA: bordeaux \d+km up, us-east \d+km up )"
                                                    R"(\(distance, healthy, scope /16\))")))
      << lines[3];
}

TEST_F(SteeringAnswersExplain, EveryStringIsShort) {
  for (const std::string& line : explain(ecs_client("130.149.7.0/24"))) {
    EXPECT_LE(line.size(), 255u);
    EXPECT_FALSE(line.empty());
  }
}

TEST_F(SteeringAnswersExplain, ResolverWithoutLocationGetsTheFallback) {
  Strings lines = explain({IpAddress::v4({127, 0, 0, 1}), 32, false});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "client 127.0.0.1 from resolver");
  EXPECT_EQ(lines[1].rfind("location unknown network ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("A: berlin up, bordeaux up (fallback, healthy, scope /", 0), 0u)
      << lines[2];
}

TEST_F(SteeringAnswersExplain, NetworkOverrideIsNamed) {
  Strings lines = explain(ecs_client("203.0.113.0/24"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].rfind("A: sydney ", 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find("(network-override, healthy, scope /24)"), std::string::npos) << lines[2];
}

TEST_F(SteeringAnswersExplain, Ipv6Client) {
  Strings lines = explain(ecs_client("2001:638:809::/48"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "client 2001:638:809::/48 from ECS");
}

TEST_F(SteeringAnswersExplain, TooSmallABufferGetsWholeStringsOnly) {
  size_t full = snapshot->answers.explain(0, ecs_client("130.149.7.0/24"), buffer);
  size_t cut = snapshot->answers.explain(0, ecs_client("130.149.7.0/24"), {buffer, full - 1});
  Strings lines = character_strings({buffer, cut});
  EXPECT_EQ(lines.size(), 3u);
  EXPECT_EQ(snapshot->answers.explain(0, ecs_client("130.149.7.0/24"), {buffer, 10}), 0u);
}

TEST_F(SteeringAnswersExplain, DoesNotAllocate) {
  dns::ClientSubnet client = ecs_client("130.149.7.0/24");
  testing::AllocationCounter counter;
  size_t length = snapshot->answers.explain(0, client, buffer);
  EXPECT_EQ(counter.stop(), 0);
  EXPECT_GT(length, 0u);
}

TEST_F(SteeringAnswersExplain, AnsweringWithEachMirrorsUsableAddressesDoesNotAllocate) {
  dns::ClientSubnet client = ecs_client("130.149.7.0/24");
  dns::DynamicAnswer answer;
  testing::AllocationCounter counter;
  snapshot->answers.answer(0, Family::V4, client, answer);
  snapshot->answers.answer(0, Family::V6, client, answer);
  EXPECT_EQ(counter.stop(), 0);
  EXPECT_GT(answer.count, 0u);
}

TEST_F(SteeringAnswersExplain, CountedAnswersRecordTheirCatchmentSampleWithoutAllocating) {
  metrics::QueryMetrics metrics;
  auto counted = build_snapshot(snapshot->loaded, nullptr, &metrics);
  dns::ClientSubnet client = ecs_client("130.149.7.0/24");
  dns::DynamicAnswer answer;
  counted->answers.answer(0, Family::V4, client, answer);  // makes this thread's counters
  testing::AllocationCounter counter;
  counted->answers.answer(0, Family::V4, client, answer);
  counted->answers.answer(0, Family::V6, client, answer);
  EXPECT_EQ(counter.stop(), 0);
  EXPECT_EQ(metrics.catchment_samples(metrics::catchment_clock()).size(), 3u);
}

// --- formatting on an engine built here: health, long lines --------------------

class Lines : public LineSink {
 public:
  void line(std::string_view text) override { lines.emplace_back(text); }
  Strings lines;
};

steering::Mirror mirror(std::string id, double lat, double lon) {
  steering::Mirror m;
  m.id = std::move(id);
  m.location = {lat, lon};
  m.ipv4 = {IpAddress::v4({192, 0, 2, 1})};
  return m;
}

steering::Engine engine_of(std::vector<steering::Mirror> mirrors, unsigned answers,
                           healthcheck::HealthState health) {
  steering::ServiceSpec service;
  service.name = "s.example.org.";
  for (uint16_t i = 0; i < mirrors.size(); ++i) service.mirrors.push_back(i);
  service.answers = answers;
  return steering::Engine(std::move(mirrors), {service}, nullptr,
                          std::make_shared<const healthcheck::HealthState>(std::move(health)));
}

TEST(ExplainDecision, NamesStaleMirrorsAndTheTier) {
  auto health = healthcheck::HealthState::all_up(2);
  for (auto& m : health.mirrors) m.verdict = healthcheck::Verdict::Stale;
  steering::Engine engine = engine_of({mirror("m1", 0, 0), mirror("m2", 0, 1)}, 2, health);
  steering::Decision decision = engine.choose(0, Family::V4, {IpAddress::v4({10, 0, 0, 1}), 32});
  Lines sink;
  explain_decision(engine, decision, Family::V4, steering::GeoResult{}, sink);
  EXPECT_EQ(sink.lines, Strings{"A: m1 stale, m2 stale (config-order, stale, scope /0)"});
}

TEST(ExplainDecision, FamilyWithoutMirrorsIsNoData) {
  steering::Engine engine = engine_of({mirror("m1", 0, 0)}, 1, healthcheck::HealthState::all_up(1));
  steering::Decision decision = engine.choose(0, Family::V6, {IpAddress::v4({10, 0, 0, 1}), 32});
  Lines sink;
  explain_decision(engine, decision, Family::V6, steering::GeoResult{}, sink);
  EXPECT_EQ(sink.lines, Strings{"AAAA: no mirror has an IPv6 address (NODATA)"});
}

TEST(ExplainDecision, ManyLongMirrorNamesGoOnOverSeveralLines) {
  std::vector<steering::Mirror> mirrors;
  for (char c = 'a'; c < 'a' + 6; ++c) mirrors.push_back(mirror(std::string(100, c), 0, 0));
  steering::Engine engine = engine_of(mirrors, 6, healthcheck::HealthState::all_up(6));
  steering::Decision decision = engine.choose(0, Family::V4, {IpAddress::v4({10, 0, 0, 1}), 32});
  Lines sink;
  explain_decision(engine, decision, Family::V4, steering::GeoResult{}, sink);
  ASSERT_EQ(sink.lines.size(), 3u);
  std::string all;
  for (const std::string& line : sink.lines) {
    EXPECT_LE(line.size(), LineSink::kMaxLine);
    EXPECT_EQ(line.rfind("A: ", 0), 0u) << line;
    all += line + "\n";
  }
  for (char c = 'a'; c < 'a' + 6; ++c) {
    EXPECT_NE(all.find(std::string(100, c) + " up"), std::string::npos) << c;
  }
  EXPECT_NE(sink.lines.back().find("(config-order, healthy, scope /0)"), std::string::npos);
}

TEST(TxtRdataSink, WritesLengthPrefixedStringsAndStopsWhenFull) {
  char out[12];
  TxtRdataSink sink(out);
  sink.line("abc");
  sink.line("defgh");
  sink.line("ij");  // 3 more octets: 4 + 6 + 3 = 13 > 12
  sink.line("k");   // would fit, but a later line never follows a dropped one
  EXPECT_EQ(std::string_view(out, sink.size()), std::string_view("\x03" "abc\x05" "defgh"));
}

}  // namespace
}  // namespace geosteer::app
