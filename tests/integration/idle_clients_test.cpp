// Idle clients against the built binary: however many connections sit silent on
// the DNS TCP port or the monitoring port, a new client is served within a second.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
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

// Connections in every state when SIGTERM comes: idle, in the middle of a query,
// waiting for a slow reader, and idle on the monitoring port. A connection
// outliving its listener at shutdown was once a use-after-free: under the
// sanitizer build any such error makes the exit status non-zero.
TEST_F(IdleClients, StopsCleanlyWithConnectionsInEveryState) {
  if (!open_idle(server.port(), 100)) GTEST_SKIP() << "open files limit too low";
  TcpClient partial(server.port());
  uint8_t start_of_query[3] = {0x00, 0x40, 0x12};
  ASSERT_TRUE(partial.send_bytes(start_of_query));
  // TXT of big.guix.example.org (750 octets) asked 8,000 times and never read: more
  // than the kernel buffers hold, so the server keeps the rest of a response.
  TcpClient slow_reader(server.port(), false, 4096);
  std::vector<uint8_t> queries;
  for (int i = 0; i < 8000; ++i) {
    std::vector<uint8_t> query = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    for (const char* label : {"big", "guix", "example", "org"}) {
      query.push_back(static_cast<uint8_t>(std::strlen(label)));
      query.insert(query.end(), label, label + std::strlen(label));
    }
    query.insert(query.end(), {0, 0, 16, 0, 1});
    queries.push_back(0);
    queries.push_back(static_cast<uint8_t>(query.size()));
    queries.insert(queries.end(), query.begin(), query.end());
  }
  // As much as the server takes without blocking this thread.
  ::fcntl(slow_reader.fd(), F_SETFL, ::fcntl(slow_reader.fd(), F_GETFL) | O_NONBLOCK);
  for (size_t sent = 0; sent < queries.size();) {
    ssize_t n = ::send(slow_reader.fd(), queries.data() + sent, queries.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  TcpClient http_idle(server.metrics_port());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all accepted and under way

  ASSERT_TRUE(server.running());
  EXPECT_EQ(server.stop(), 0) << server.log();
  EXPECT_EQ(server.log().find("Sanitizer"), std::string::npos) << server.log();
  EXPECT_EQ(server.log().find("runtime error"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace geosteer::testing
