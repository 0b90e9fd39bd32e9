// The operator endpoints as app/ wires them: routes, /healthz, and the model the
// status page is drawn from.
#include "app/observability.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "app/loader.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::app {
namespace {

class ObservabilityTest : public ::testing::Test {
 protected:
  std::string path =
      testing::write_temp_file("observability.yaml", testing::expand(testing::test_config(), 5353));
  std::shared_ptr<const Snapshot> snapshot = build_snapshot(load_config(path, 1), nullptr);
  // What the checker published; the snapshot's own when null.
  std::shared_ptr<const healthcheck::HealthState> checker_state;
  boost::asio::io_context io;
  metrics::QueryMetrics query_metrics;
  Observability observability{io, query_metrics, [this] { return snapshot; },
                              [this] {
                                if (checker_state) return checker_state;
                                return std::make_shared<const healthcheck::HealthState>(
                                    snapshot->engine.health());
                              }};

  // Mirror 0 (berlin) judged at two addresses, the second as given.
  void judge_second_address(healthcheck::MirrorHealth second) {
    auto state = healthcheck::HealthState::all_up(snapshot->config.mirrors.size());
    state.addresses.resize(state.mirrors.size());
    healthcheck::AddressHealth first;
    first.address = *IpAddress::parse("192.0.2.1");
    state.addresses[0] = {first, {*IpAddress::parse("192.0.2.2"), second}};
    state.mirrors[0] = second;
    checker_state = std::make_shared<const healthcheck::HealthState>(state);
  }

  bool exposes(const std::string& line) {
    return observability.metrics_text().find(line + "\n") != std::string::npos;
  }
};

TEST_F(ObservabilityTest, FreshIsAbsentUntilAProbeCheckedFreshness) {
  healthcheck::MirrorHealth down;
  down.verdict = healthcheck::Verdict::Down;
  judge_second_address(down);
  EXPECT_EQ(observability.metrics_text().find("geosteer_mirror_fresh{mirror=\"berlin\"}"),
            std::string::npos);
  down.fresh = false;
  judge_second_address(down);
  EXPECT_TRUE(exposes("geosteer_mirror_fresh{mirror=\"berlin\"} 0"));
}

TEST_F(ObservabilityTest, EachAddressHasItsOwnUpGaugeAndTheMirrorItsWorst) {
  healthcheck::MirrorHealth down;
  down.verdict = healthcheck::Verdict::Down;
  judge_second_address(down);
  EXPECT_TRUE(exposes(R"(geosteer_mirror_address_up{mirror="berlin",address="192.0.2.1"} 1)"));
  EXPECT_TRUE(exposes(R"(geosteer_mirror_address_up{mirror="berlin",address="192.0.2.2"} 0)"));
  EXPECT_TRUE(exposes(R"(geosteer_mirror_up{mirror="berlin"} 0)"));
  EXPECT_TRUE(exposes(R"(geosteer_mirror_flapping{mirror="berlin"} 0)"));
}

TEST_F(ObservabilityTest, FlappingAddressShowsInMetricsAndTheStatusModel) {
  healthcheck::MirrorHealth flapping;
  flapping.verdict = healthcheck::Verdict::Flapping;
  flapping.reason = "flapping: 5 changes within 10m, now up";
  judge_second_address(flapping);
  EXPECT_TRUE(exposes(R"(geosteer_mirror_flapping{mirror="berlin"} 1)"));
  metrics::StatusModel model = observability.status_model();
  EXPECT_EQ(model.mirrors[0].state, "flapping");
  EXPECT_TRUE(model.mirrors[0].flapping);
  ASSERT_EQ(model.mirrors[0].addresses.size(), 2u);
  EXPECT_EQ(model.mirrors[0].addresses[1].address, "192.0.2.2");
  EXPECT_EQ(model.mirrors[0].addresses[1].state, "flapping");
  EXPECT_EQ(model.mirrors[0].addresses[0].state, "up");
}

TEST_F(ObservabilityTest, TimedOutProbeCountsInTheLatencyHistogramAtTheTimeout) {
  healthcheck::Target target;
  target.mirror_id = "berlin";
  target.settings.timeout = std::chrono::seconds(5);
  healthcheck::ProbeResult result;
  result.reason = "timeout after 5s";
  result.timed_out = true;
  observability.probe_result(target, result, {}, {});
  EXPECT_TRUE(exposes(R"(geosteer_mirror_probe_latency_seconds_count{mirror="berlin"} 1)"));
  EXPECT_TRUE(exposes(R"(geosteer_mirror_probe_latency_seconds_sum{mirror="berlin"} 5)"));
  EXPECT_TRUE(exposes(R"(geosteer_mirror_probe_latency_seconds_bucket{mirror="berlin",le="2.5"} 0)"));
}

TEST_F(ObservabilityTest, RefusedProbeHasNoLatencyToCount) {
  healthcheck::Target target;
  target.mirror_id = "berlin";
  healthcheck::ProbeResult result;
  result.reason = "connect refused";
  observability.probe_result(target, result, {}, {});
  EXPECT_EQ(observability.metrics_text().find("geosteer_mirror_probe_latency_seconds_count{mirror=\"berlin\"}"),
            std::string::npos);
}

TEST_F(ObservabilityTest, HealthzIsUnavailableUntilServing) {
  EXPECT_EQ(observability.handle("/healthz").status, 503u);
  observability.set_serving(true);
  EXPECT_EQ(observability.handle("/healthz").status, 200u);
  observability.set_serving(false);
  EXPECT_EQ(observability.handle("/healthz").status, 503u);
}

TEST_F(ObservabilityTest, UnknownPathIsNotFound) {
  EXPECT_EQ(observability.handle("/nope").status, 404u);
}

TEST_F(ObservabilityTest, StatusModelMarksDrainedMirrorsWhateverTheirHealth) {
  // Drained at run time (geosteer ctl drain); `drain: true` reaches the engine the same way.
  snapshot = build_snapshot(snapshot->loaded, nullptr, nullptr, {snapshot->config.mirrors[0].id});
  metrics::StatusModel model = observability.status_model();
  ASSERT_EQ(model.mirrors.size(), 8u);
  EXPECT_EQ(model.mirrors[0].state, "drained");
  EXPECT_EQ(model.mirrors[1].state, "up");
}

TEST_F(ObservabilityTest, StatusModelSharesCountAnswersPerService) {
  auto counted = build_snapshot(snapshot->loaded, nullptr, &query_metrics);
  dns::DynamicAnswer answer;
  dns::ClientSubnet berlin{*IpAddress::parse("130.149.7.0"), 24, true};
  counted->answers.answer(0, Family::V4, berlin, answer);
  counted->answers.answer(0, Family::V4, berlin, answer);
  metrics::StatusModel model = observability.status_model();
  ASSERT_EQ(model.services.size(), 1u);
  const auto& mirrors = model.services[0].mirrors;
  ASSERT_EQ(mirrors[0].mirror, "berlin");
  EXPECT_EQ(mirrors[0].answers, 2u);
  EXPECT_DOUBLE_EQ(mirrors[0].answer_share, 0.5);  // berlin and bordeaux, twice each
}

TEST_F(ObservabilityTest, SteeringMapSizeIsExportedPerService) {
  const steering::SteeringMap& map = *snapshot->loaded->steering;
  steering::MapFigures figures = map.maps.at(0).figures();
  ASSERT_GT(figures.ranges, 1u);
  const std::string service = "{service=\"" + map.services.at(0).name + "\"} ";
  EXPECT_TRUE(exposes("geosteer_steering_map_entries" + service + std::to_string(figures.ranges)));
  EXPECT_TRUE(exposes("geosteer_steering_map_rankings" + service + std::to_string(figures.rankings)));
  EXPECT_TRUE(exposes("geosteer_steering_map_bytes" + service + std::to_string(figures.bytes)))
      << observability.metrics_text();
}

TEST_F(ObservabilityTest, SteeringMapBuildTimeIsTheLoadsOwn) {
  auto loaded = std::make_shared<LoadedConfig>(*snapshot->loaded);
  loaded->steering_build_time = std::chrono::milliseconds(1250);
  snapshot = build_snapshot(loaded, nullptr);
  EXPECT_TRUE(exposes("geosteer_steering_map_build_seconds 1.25")) << observability.metrics_text();
}

}  // namespace
}  // namespace geosteer::app

namespace geosteer::app {
namespace {

// test_config(): the service has 8 mirrors, every one with IPv4 and 4 with IPv6,
// and answers 2.
TEST_F(ObservabilityTest, ServiceGaugesGiveTheAnswersSettingAndTheMirrorsOfEachFamily) {
  const std::string service = R"(service="substitutes.guix.example.org.")";
  EXPECT_TRUE(exposes("geosteer_service_answers{" + service + "} 2"));
  EXPECT_TRUE(exposes("geosteer_service_mirrors{" + service + R"(,family="ipv4"} 8)"));
  EXPECT_TRUE(exposes("geosteer_service_mirrors{" + service + R"(,family="ipv6"} 4)"));
  EXPECT_TRUE(exposes("geosteer_service_healthy_mirrors{" + service + R"(,family="ipv4"} 8)"));
  EXPECT_TRUE(exposes("geosteer_service_healthy_mirrors{" + service + R"(,family="ipv6"} 4)"));
}

TEST_F(ObservabilityTest, AMirrorDownLeavesTheHealthyCountButNotTheMirrors) {
  auto health = healthcheck::HealthState::all_up(snapshot->config.mirrors.size());
  health.mirrors[0].verdict = healthcheck::Verdict::Down;  // berlin
  snapshot = build_snapshot(snapshot->loaded, std::make_shared<const healthcheck::HealthState>(health));
  const std::string service = R"(service="substitutes.guix.example.org.")";
  EXPECT_TRUE(exposes("geosteer_service_mirrors{" + service + R"(,family="ipv4"} 8)"));
  EXPECT_TRUE(exposes("geosteer_service_healthy_mirrors{" + service + R"(,family="ipv4"} 7)"));
}

TEST_F(ObservabilityTest, ADrainedMirrorLeavesBothCounts) {
  snapshot = build_snapshot(snapshot->loaded, nullptr, nullptr, {"berlin"});
  const std::string service = R"(service="substitutes.guix.example.org.")";
  EXPECT_TRUE(exposes("geosteer_service_mirrors{" + service + R"(,family="ipv4"} 7)"));
  EXPECT_TRUE(exposes("geosteer_service_healthy_mirrors{" + service + R"(,family="ipv4"} 7)"));
  EXPECT_TRUE(exposes(R"(geosteer_mirror_drained{mirror="berlin"} 1)"));
}

}  // namespace
}  // namespace geosteer::app

// --- who goes where: catchments, mirrors as configured, query rate, databases ----

namespace geosteer::app {
namespace {

dns::ClientSubnet ecs(const char* prefix_text) {
  IpPrefix prefix = *IpPrefix::parse(prefix_text);
  return {prefix.address, prefix.length, true};
}

const metrics::MirrorStatus& mirror_of(const metrics::StatusModel& model, const std::string& id) {
  for (const auto& m : model.mirrors) {
    if (m.id == id) return m;
  }
  throw std::out_of_range(id);
}

TEST_F(ObservabilityTest, StatusModelCatchmentGroupsAnsweredClientsByCellPerMirror) {
  snapshot = build_snapshot(snapshot->loaded, nullptr, &query_metrics);
  dns::DynamicAnswer answer;
  snapshot->answers.answer(0, Family::V4, ecs("130.149.7.0/24"), answer);  // Berlin: berlin first
  snapshot->answers.answer(0, Family::V4, ecs("130.149.200.0/24"), answer);
  snapshot->answers.answer(0, Family::V4, ecs("133.11.0.0/24"), answer);   // Tokyo: tokyo first
  metrics::StatusModel model = observability.status_model();

  const metrics::Catchment& berlin = mirror_of(model, "berlin").catchment;
  ASSERT_EQ(berlin.cells.size(), 1u);
  EXPECT_EQ(berlin.cells[0].lat, 52);  // the fixture's Berlin, 52.52 13.40, in its 2-degree cell
  EXPECT_EQ(berlin.cells[0].lon, 14);
  EXPECT_EQ(berlin.cells[0].answers, 2u);
  EXPECT_EQ(berlin.cells[0].countries, std::vector<std::string>{"DE"});
  const metrics::Catchment& tokyo = mirror_of(model, "tokyo").catchment;
  ASSERT_EQ(tokyo.cells.size(), 1u);
  EXPECT_EQ(tokyo.cells[0].lat, 36);
  EXPECT_EQ(tokyo.cells[0].lon, 140);
  EXPECT_EQ(tokyo.cells[0].answers, 1u);
  // bordeaux was answered too, but second: a catchment is where clients go first.
  EXPECT_TRUE(mirror_of(model, "bordeaux").catchment.cells.empty());
}

TEST_F(ObservabilityTest, StatusModelCatchmentCountsClientsGeoIpCannotPlaceApart) {
  snapshot = build_snapshot(snapshot->loaded, nullptr, &query_metrics);
  dns::DynamicAnswer answer;
  snapshot->answers.answer(0, Family::V4, {IpAddress::v4({127, 0, 0, 1}), 32, false}, answer);
  metrics::StatusModel model = observability.status_model();
  const metrics::Catchment& berlin = mirror_of(model, "berlin").catchment;  // the fallback's first
  EXPECT_TRUE(berlin.cells.empty());
  EXPECT_EQ(berlin.unlocated, 1u);
}

TEST_F(ObservabilityTest, StatusJsonCarriesTheCatchments) {
  snapshot = build_snapshot(snapshot->loaded, nullptr, &query_metrics);
  dns::DynamicAnswer answer;
  snapshot->answers.answer(0, Family::V4, ecs("133.11.0.0/24"), answer);
  auto status = nlohmann::json::parse(observability.handle("/status.json").body);
  for (const auto& mirror : status.at("mirrors")) {
    if (mirror.at("id") != "tokyo") continue;
    EXPECT_EQ(mirror.at("catchment").at("answers"), 1);
    EXPECT_EQ(mirror.at("catchment").at("cells").at(0).at("lat"), 36);
    return;
  }
  FAIL() << "no tokyo in " << status.dump();
}

TEST_F(ObservabilityTest, StatusModelHasEachMirrorsAddressesWeightAndHome) {
  std::string config = testing::expand(testing::test_config(), 5353);
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config.replace(at, from.size(), to);
  };
  replace("flat-ipv6.mmdb\"]", "flat-ipv6.mmdb\", \"" + testing::fixture("asn.mmdb") + "\"]");
  replace("ipv6: [\"2001:db8:1::10\"],", "ipv6: [\"2001:db8:1::10\"], weight: 250, "
                                         "networks: [\"203.0.113.128/25\"], asns: [64500],");
  snapshot = build_snapshot(load_config(testing::write_temp_file("home.yaml", config), 1), nullptr);
  metrics::StatusModel model = observability.status_model();
  const metrics::MirrorStatus& bordeaux = mirror_of(model, "bordeaux");
  EXPECT_EQ(bordeaux.ipv4, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(bordeaux.ipv6, std::vector<std::string>{"2001:db8:1::10"});
  EXPECT_EQ(bordeaux.weight, 250u);
  EXPECT_EQ(bordeaux.home_networks, std::vector<std::string>{"203.0.113.128/25"});
  EXPECT_EQ(bordeaux.home_asns, std::vector<uint32_t>{64500});
  const metrics::MirrorStatus& berlin = mirror_of(model, "berlin");
  EXPECT_TRUE(berlin.ipv6.empty());
  EXPECT_EQ(berlin.weight, 100u);
  ASSERT_EQ(model.databases.size(), 3u);
  EXPECT_EQ(model.databases[2].kind, "asn");
}

TEST_F(ObservabilityTest, StatusModelListsTheServedGeoIpDatabasesWithTheirBuildTimes) {
  metrics::StatusModel model = observability.status_model();
  ASSERT_EQ(model.databases.size(), 2u);
  EXPECT_EQ(model.databases[0].path, testing::fixture("flat-ipv4.mmdb"));
  EXPECT_EQ(model.databases[0].kind, "city");
  EXPECT_EQ(model.databases[0].type, "DBIP-City-Lite-IPv4-Fixture");
  EXPECT_EQ(model.databases[0].ip_version, 4u);
  EXPECT_EQ(model.databases[0].build_epoch, 1767225600);  // 2026-01-01, tools/make-mmdb-fixtures.pl
  EXPECT_EQ(model.databases[1].ip_version, 6u);
}

TEST_F(ObservabilityTest, StatusModelQueryRateComesFromTheSampledQueryTotals) {
  EXPECT_TRUE(observability.status_model().query_rate.empty());  // one total: no interval yet
  for (int i = 0; i < 30; ++i) query_metrics.count_query(metrics::Transport::Udp, 1, 0);
  query_metrics.count_dropped(metrics::DropReason::Malformed);  // not a query answered
  observability.sample_answers();
  metrics::StatusModel model = observability.status_model();
  ASSERT_EQ(model.query_rate.size(), 1u);
  EXPECT_GT(model.query_rate[0].per_second, 0);
  EXPECT_EQ(model.query_rate_step_seconds, 10);
  observability.sample_answers();  // no query since: a rate of 0
  EXPECT_EQ(observability.status_model().query_rate.back().per_second, 0);
}

}  // namespace
}  // namespace geosteer::app
