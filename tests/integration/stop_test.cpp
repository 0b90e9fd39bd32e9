// How the server stops, seen from outside: SIGTERM drains (/healthz 503 while
// queries are still answered for server.drain_time), SIGINT and a second signal
// stop at once, and either way the exit is clean.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string config_with_drain(const std::string& drain) {
  std::string text = test_config();
  const std::string identity = "  identity: geosteer-test-1\n";
  text.replace(text.find(identity), identity.size(), identity + "  drain_time: " + drain + "\n");
  return text;
}

// The HTTP status of GET /healthz, or 0 when nothing answers.
int healthz_status(const GeosteerServer& server) {
  auto result = run_command("curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:" +
                            std::to_string(server.metrics_port()) + "/healthz");
  return result.output.empty() ? 0 : std::stoi(result.output);
}

bool answers(const GeosteerServer& server) {
  return dig_status(server.dig("guix.example.org SOA")) == "NOERROR";
}

TEST(Stop, SigtermTurnsHealthzTo503WhileQueriesAreStillAnswered) {
  GeosteerServer server(config_with_drain("3s"));
  ASSERT_EQ(healthz_status(server), 200);
  server.send_signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(healthz_status(server), 503);
  EXPECT_TRUE(answers(server)) << "no answer during the drain";
  EXPECT_NE(server.log().find("queries are answered for 3000 ms more"), std::string::npos)
      << server.log();
}

TEST(Stop, SigtermExitsCleanlyOnceTheDrainTimeIsOver) {
  GeosteerServer server(config_with_drain("1s"));
  auto start = Clock::now();
  server.send_signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(20)), 0) << server.log();
  EXPECT_GE(Clock::now() - start, milliseconds(1000)) << "stopped before the drain time was over";
  EXPECT_NE(server.log().find("drain time over; stopping"), std::string::npos) << server.log();
}

TEST(Stop, SigintStopsAtOnceWithoutDraining) {
  GeosteerServer server(config_with_drain("30s"));
  server.send_signal(SIGINT);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 0) << server.log();
}

TEST(Stop, ASecondSignalDuringTheDrainStopsAtOnce) {
  GeosteerServer server(config_with_drain("30s"));
  server.send_signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(300));
  server.send_signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 0) << server.log();
}

TEST(Stop, AReloadDuringTheDrainIsIgnored) {
  GeosteerServer server(config_with_drain("2s"));
  server.send_signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(300));
  server.send_signal(SIGHUP);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(20)), 0) << server.log();
  EXPECT_NE(server.log().find("reload: ignored while stopping"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace geosteer::testing
