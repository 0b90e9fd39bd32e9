// The checker against real servers on loopback: every address of a mirror is
// probed and judged on its own, and a reload keeps what was learnt.
#include "healthcheck/checker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "tests/support/http_test_server.h"

namespace geosteer::healthcheck {
namespace {

using geosteer::testing::HttpTestServer;
using geosteer::testing::TestResponse;
using namespace std::chrono_literals;

const std::string kCacheInfo = "StoreDir: /gnu/store\n";

Target target_at(const HttpTestServer& server, const char* address) {
  Target target;
  target.mirror_id = "mirror";
  target.url = server.url();
  target.address = *IpAddress::parse(address);
  target.settings.interval = 50ms;
  target.settings.timeout = 1s;
  target.settings.rise = 1;
  target.settings.fall = 1;
  return target;
}

CheckerSettings probing() {
  CheckerSettings settings;
  settings.enabled = true;
  return settings;
}

class CheckerTest : public ::testing::Test {
 protected:
  // Runs the checker's io_context until `done` holds of its state (at most 5 s).
  bool run_until(Checker& checker, const std::function<bool(const HealthState&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(*checker.state())) return true;
      io.run_for(10ms);
    }
    return done(*checker.state());
  }

  static bool probed(const HealthState& state, size_t mirror, size_t address) {
    return mirror < state.addresses.size() && address < state.addresses[mirror].size() &&
           state.addresses[mirror][address].health.probed;
  }

  boost::asio::io_context io;
  HttpTestServer server;
};

TEST_F(CheckerTest, EveryAddressIsProbedAndJudgedOnItsOwn) {
  server.set_response("/nix-cache-info", TestResponse::ok(kCacheInfo));
  // Nothing listens on 127.0.0.5 at the server's port: that address is refused.
  Checker checker(io, probing(),
                  {target_at(server, "127.0.0.1"), target_at(server, "127.0.0.5")}, nullptr);
  checker.start();
  ASSERT_TRUE(run_until(checker, [](const HealthState& s) { return probed(s, 0, 0) && probed(s, 0, 1); }));
  const HealthState& state = *checker.state();
  EXPECT_EQ(state.addresses[0][0].health.verdict, Verdict::Up);
  EXPECT_EQ(state.addresses[0][1].health.verdict, Verdict::Down);
  EXPECT_EQ(state.verdict(0, *IpAddress::parse("127.0.0.1")), Verdict::Up);
  EXPECT_EQ(state.verdict(0, *IpAddress::parse("127.0.0.5")), Verdict::Down);
  // Operators see the worst address, named.
  EXPECT_EQ(state.mirrors[0].verdict, Verdict::Down);
  EXPECT_EQ(state.mirrors[0].reason, "127.0.0.5: connect refused");
  checker.stop();
}

TEST_F(CheckerTest, MirrorFailingEveryOtherProbeGoesDownAndStaysDown) {
  server.set_response("/nix-cache-info", TestResponse::ok(kCacheInfo));
  Target target = target_at(server, "127.0.0.1");
  target.settings.interval = 20ms;
  target.settings.rise = 2;
  target.settings.fall = 2;
  Checker checker(io, probing(), {target}, nullptr);
  int results = 0, transitions = 0;
  // Each result sets what the next probe gets: ok, 503, ok, 503, ...
  checker.on_result([&](const Target&, const ProbeResult&, const MirrorHealth& before,
                        const MirrorHealth& after) {
    ++results;
    transitions += before.verdict != after.verdict;
    server.set_response("/nix-cache-info", results % 2 == 0 ? TestResponse::ok(kCacheInfo)
                                                            : TestResponse::with_status(503));
  });
  checker.start();
  ASSERT_TRUE(run_until(checker, [&](const HealthState&) { return results >= 12; }));
  EXPECT_EQ(checker.state()->mirrors[0].verdict, Verdict::Down);
  EXPECT_EQ(checker.state()->mirrors[0].reason, "HTTP 503");
  EXPECT_EQ(transitions, 1);
  checker.stop();
}

// A mirror found down, then a reload.
class CheckerReloadTest : public CheckerTest {
 protected:
  void SetUp() override {
    server.stop();  // refused: down after one probe (fall 1)
    target = target_at(server, "127.0.0.1");
    target.settings.interval = 1h;  // one probe soon after start, then none during the test
    checker = std::make_unique<Checker>(io, probing(), std::vector<Target>{target}, nullptr);
    checker->start();
    ASSERT_TRUE(run_until(*checker, [](const HealthState& s) { return probed(s, 0, 0); }));
    ASSERT_EQ(checker->state()->mirrors[0].verdict, Verdict::Down);
  }

  void TearDown() override { checker->stop(); }

  Verdict after_reload(const Target& changed) {
    checker->reconfigure(probing(), {changed});
    return checker->state()->verdict(0, changed.address);
  }

  Target target;
  std::unique_ptr<Checker> checker;
};

TEST_F(CheckerReloadTest, ChangedJitterKeepsTheVerdict) {
  Target changed = target;
  changed.settings.jitter = 0.3;
  EXPECT_EQ(after_reload(changed), Verdict::Down);
}

TEST_F(CheckerReloadTest, ChangedThresholdsAndLivenessKeepTheVerdict) {
  Target changed = target;
  changed.settings.rise = 5;
  changed.settings.fall = 4;
  changed.settings.timeout = 2s;
  changed.settings.liveness.path = "other";
  EXPECT_EQ(after_reload(changed), Verdict::Down);
}

TEST_F(CheckerReloadTest, MirrorMovedInTheConfigurationKeepsTheVerdict) {
  Target moved = target;
  moved.mirror = 3;
  checker->reconfigure(probing(), {moved});
  EXPECT_EQ(checker->state()->verdict(3, moved.address), Verdict::Down);
}

TEST_F(CheckerReloadTest, ChangedUrlStartsOver) {
  Target changed = target;
  changed.url = "http://127.0.0.1:9/";
  EXPECT_EQ(after_reload(changed), Verdict::Up);  // initial: up
}

TEST_F(CheckerReloadTest, ChangedAddressStartsOver) {
  Target changed = target;
  changed.address = *IpAddress::parse("127.0.0.6");
  EXPECT_EQ(after_reload(changed), Verdict::Up);
}

}  // namespace
}  // namespace geosteer::healthcheck
