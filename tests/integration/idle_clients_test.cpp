// Idle clients against the built binary: however many connections sit silent on
// the DNS TCP port or the monitoring port, a new client is served within a second.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "common/fd_limit.h"
#include "tests/dns/tcp_client.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {

using Clock = std::chrono::steady_clock;
using dns::test::TcpClient;

class IdleClients : public ::testing::Test {
 protected:
  // Silent connections to `port`, held until the test ends.
  bool open_idle(uint16_t port, size_t count) {
    FdLimit limit = raise_fd_limit();
    if (limit.soft < count + 256) return false;
    for (size_t i = 0; i < count; ++i) idle_.push_back(std::make_unique<TcpClient>(port));
    return true;
  }

  GeosteerServer server{test_config()};
  std::vector<std::unique_ptr<TcpClient>> idle_;
};

TEST_F(IdleClients, NewDnsTcpClientIsAnsweredWithinASecondAfter2000IdleConnections) {
  if (!open_idle(server.port(), 2000)) GTEST_SKIP() << "open files limit too low for the test";
  auto start = Clock::now();
  auto out = server.dig("ns1.guix.example.org A +tcp +time=1 +tries=1");
  auto took = Clock::now() - start;
  EXPECT_EQ(dig_status(out), "NOERROR") << out;
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_TRUE(server.running());
}

TEST_F(IdleClients, HealthzAnswersWithinASecondAfter200IdleConnections) {
  if (!open_idle(server.metrics_port(), 200)) GTEST_SKIP() << "open files limit too low";
  auto start = Clock::now();
  std::string url = "http://127.0.0.1:" + std::to_string(server.metrics_port()) + "/healthz";
  auto result = run_command("curl -s -o /dev/null --max-time 1 -w '%{http_code}' " + url);
  auto took = Clock::now() - start;
  EXPECT_EQ(result.output, "200");
  EXPECT_LT(took, std::chrono::seconds(1));
}

TEST_F(IdleClients, DigOverTcpIsToldTheIdleTimeout) {
  // The test configuration's tcp_idle_timeout is 2s: RFC 7828 TIMEOUT 20.
  auto out = server.dig("ns1.guix.example.org A +tcp +keepalive");
  EXPECT_NE(out.find("TCP KEEPALIVE: 2.0 secs"), std::string::npos) << out;
}

TEST_F(IdleClients, DigOverUdpIsNotToldAKeepalive) {
  auto out = server.dig("ns1.guix.example.org A +notcp +keepalive");
  EXPECT_EQ(dig_status(out), "NOERROR") << out;
  EXPECT_EQ(out.find("KEEPALIVE"), std::string::npos) << out;
}

}  // namespace
}  // namespace geosteer::testing
