// The operator endpoints as app/ wires them: routes, /healthz, and the model the
// status page is drawn from.
#include "app/observability.h"

#include <gtest/gtest.h>

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
  boost::asio::io_context io;
  metrics::QueryMetrics query_metrics;
  Observability observability{io, query_metrics, [this] { return snapshot; },
                              [this] {
                                return std::make_shared<const healthcheck::HealthState>(
                                    snapshot->engine.health());
                              }};
};

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
  auto loaded = std::make_shared<LoadedConfig>(*snapshot->loaded);
  loaded->config.mirrors[0].drain = true;
  snapshot = build_snapshot(loaded, nullptr);
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

}  // namespace
}  // namespace geosteer::app
