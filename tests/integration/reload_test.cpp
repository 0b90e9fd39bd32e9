// A reload on real data: compiling the steering map of DB-IP Lite City takes
// seconds, and none of them may be taken from the control thread, which serves the
// monitoring port, probes mirrors and publishes health.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/harness.h"

namespace geosteer::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

size_t count_of(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// Sends SIGHUP and waits until the server says it is loading.
bool start_reload(GeosteerServer& server) {
  server.send_signal(SIGHUP);
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (server.log().find("reloading") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  return server.log().find("reloading") != std::string::npos;
}

bool wait_for_reloaded(GeosteerServer& server) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (server.log().find("reloaded") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  return server.log().find("reloaded") != std::string::npos;
}

TEST(ReloadOnDbipData, TheMonitoringPortAnswersWhileTheNewMapCompiles) {
  ASSERT_TRUE(dbip_data_present()) << "run tools/fetch-geoip.sh first (the test command does)";
  GeosteerServer server(demo_config_on_dbip());
  ASSERT_TRUE(start_reload(server)) << server.log();
  // The control thread serves /healthz. Were it compiling the map (seconds on this
  // data), the answer would come only after the switch to the new configuration,
  // which logs "reloaded" first.
  EXPECT_NE(server.http_get("/healthz").find("ok"), std::string::npos);
  EXPECT_EQ(server.log().find("reloaded"), std::string::npos) << "/healthz waited for the new map";
  EXPECT_TRUE(wait_for_reloaded(server)) << server.log();
}

TEST(ReloadOnDbipData, SighupsDuringAReloadAreLoadedOnceMoreAfterIt) {
  ASSERT_TRUE(dbip_data_present()) << "run tools/fetch-geoip.sh first (the test command does)";
  GeosteerServer server(demo_config_on_dbip());
  ASSERT_TRUE(start_reload(server)) << server.log();
  auto deadline = Clock::now() + std::chrono::seconds(60);
  // Two more while the first is loading: they ask for one more load, not two.
  server.send_signal(SIGHUP);
  std::this_thread::sleep_for(milliseconds(50));
  server.send_signal(SIGHUP);
  while (count_of(server.log(), "reloaded") < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(count_of(server.log(), "reloaded"), 2u) << server.log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(count_of(server.log(), "reloaded"), 2u) << server.log();
  EXPECT_NE(server.log().find("generation 3"), std::string::npos) << server.log();
}

TEST(ReloadOnDbipData, ASigtermDuringAReloadStopsCleanlyOnceTheLoadIsDone) {
  ASSERT_TRUE(dbip_data_present()) << "run tools/fetch-geoip.sh first (the test command does)";
  GeosteerServer server(demo_config_on_dbip());
  ASSERT_TRUE(start_reload(server)) << server.log();
  // The load cannot be interrupted: the stop waits for it (a map compile at most),
  // then exits as usual, without switching to the new configuration.
  EXPECT_EQ(server.stop(std::chrono::seconds(60)), 0) << server.log();
  EXPECT_EQ(server.log().find("reloaded"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace geosteer::testing
