// Response rate limiting seen from the wire: the built binary on loopback, flooded
// from one source address over UDP while other clients keep asking.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kFloodQueries = 10000;
constexpr auto kFloodDuration = 2s;

// The test configuration with a rate limit that forgives quickly (window 1s) and
// tells 127.0.0.1 from 127.0.0.2 (a /32 per client instead of a /24).
std::string rate_limited_config() {
  return with_server_setting(
      test_config(),
      "  rate_limit: {responses_per_second: 100, window: 1s, slip: 2, ipv4_prefix: 32}");
}

// "substitutes.guix.example.org. A" with EDNS, as a resolver would send it.
std::vector<uint8_t> steered_query(uint16_t id) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00,
                            0, 1, 0, 0, 0, 0, 0, 1};
  for (std::string label : {"substitutes", "guix", "example", "org"}) {
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});                       // root, A, IN
  q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});  // OPT, 1232, no options
  return q;
}

enum class Reply { Full, Truncated, Other };

Reply classify(const uint8_t* reply, size_t length) {
  if (length < 12) return Reply::Other;
  bool tc = reply[2] & 0x02;
  unsigned answers = reply[6] << 8 | reply[7];
  if (tc && answers == 0) return Reply::Truncated;
  if (!tc && answers > 0) return Reply::Full;
  return Reply::Other;
}

// A UDP client socket bound to one loopback source address.
class UdpClient {
 public:
  UdpClient(const char* source, uint16_t server_port) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
    server_.sin_family = AF_INET;
    server_.sin_port = htons(server_port);
    inet_pton(AF_INET, "127.0.0.1", &server_.sin_addr);
  }
  ~UdpClient() { close(fd_); }

  void send(const std::vector<uint8_t>& query) {
    sendto(fd_, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&server_),
           sizeof server_);
  }
  // The next reply, or Other after `timeout`.
  Reply receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return Reply::Other;
    ssize_t n = recv(fd_, buffer_, sizeof buffer_, 0);
    return classify(buffer_, n > 0 ? static_cast<size_t>(n) : 0);
  }
  // One query, one reply (one retry on a lost datagram).
  Reply ask() {
    for (int attempt = 0; attempt < 2; ++attempt) {
      send(steered_query(0x4242));
      Reply reply = receive(1000ms);
      if (reply != Reply::Other) return reply;
    }
    return Reply::Other;
  }

 private:
  int fd_ = -1;
  sockaddr_in server_{};
  uint8_t buffer_[4096];
};

struct FloodResult {
  int full = 0, truncated = 0, other = 0;
  int received() const { return full + truncated + other; }
};

// kFloodQueries identical queries from 127.0.0.1 over kFloodDuration, in paced
// batches, reading replies as they come so the socket buffer never overflows.
FloodResult flood(uint16_t port) {
  UdpClient client("127.0.0.1", port);
  FloodResult result;
  auto count = [&](Reply reply) {
    if (reply == Reply::Full) ++result.full;
    if (reply == Reply::Truncated) ++result.truncated;
    if (reply == Reply::Other) ++result.other;
  };
  constexpr int kBatches = 200;
  const auto pace = std::chrono::milliseconds(kFloodDuration) / kBatches;
  std::vector<uint8_t> query = steered_query(1);
  Clock::time_point start = Clock::now();
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int i = 0; i < kFloodQueries / kBatches; ++i) client.send(query);
    Clock::time_point next = start + (batch + 1) * pace;
    while (Clock::now() < next) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
      Reply reply = client.receive(std::max(left, 1ms));
      if (reply != Reply::Other) count(reply);
    }
  }
  for (Reply reply = client.receive(300ms); reply != Reply::Other; reply = client.receive(300ms)) {
    count(reply);
  }
  return result;
}

class RateLimit : public ::testing::Test {
 protected:
  GeosteerServer server{rate_limited_config()};
};

TEST_F(RateLimit, AFloodFromOneAddressGetsFewAnswersAndTruncatedSlips) {
  FloodResult result = flood(server.port());
  EXPECT_GT(result.received(), kFloodQueries / 4) << "the flood went unanswered altogether";
  EXPECT_LE(result.full, kFloodQueries / 5);
  EXPECT_GT(result.full, 0);
  EXPECT_GT(result.truncated, kFloodQueries / 10);
  std::string metrics = server.http_get("/metrics");
  EXPECT_NE(metrics.find("geosteer_dns_dropped_total{reason=\"rate_limited\"} "), std::string::npos);
  EXPECT_EQ(metrics.find("geosteer_dns_dropped_total{reason=\"rate_limited\"} 0\n"), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("geosteer_dns_slipped_total 0\n"), std::string::npos) << metrics;
}

TEST_F(RateLimit, AnotherClientIsAnsweredNormallyThroughoutTheFlood) {
  std::thread flooder([&] { flood(server.port()); });
  UdpClient other("127.0.0.2", server.port());
  std::vector<Reply> replies;
  for (int i = 0; i < 15; ++i) {
    replies.push_back(other.ask());
    std::this_thread::sleep_for(100ms);
  }
  flooder.join();
  EXPECT_EQ(replies, std::vector<Reply>(replies.size(), Reply::Full));
}

TEST_F(RateLimit, TcpIsNeverLimitedEvenDuringAFlood) {
  std::atomic<bool> flooding{true};
  std::thread flooder([&] {
    flood(server.port());
    flooding = false;
  });
  std::this_thread::sleep_for(500ms);  // well into the flood, the account in debt
  std::vector<std::string> statuses;
  for (int i = 0; i < 5 && flooding; ++i) {
    std::string out = server.dig("substitutes.guix.example.org A +tcp");
    statuses.push_back(dig_status(out) + (dig_has_flag(out, "tc") ? " tc" : "") + " " +
                       std::to_string(dig_section(out, "ANSWER").size()));
  }
  flooder.join();
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses, std::vector<std::string>(statuses.size(), "NOERROR 2"));
}

// "; COOKIE: 0123456789abcdef0100000065f0a1b2c3d4e5f6a7b8c9d0 (good)" -> the hex.
std::string dig_cookie(const std::string& output) {
  std::smatch m;
  if (std::regex_search(output, m, std::regex(R"(; COOKIE: ([0-9a-f]+))"))) return m[1];
  return "";
}

TEST_F(RateLimit, AClientCookieIsAnsweredWithAServerCookieThatDigAccepts) {
  std::string out = server.dig("substitutes.guix.example.org A +cookie");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_EQ(dig_cookie(out).size(), 48u) << out;  // 8 octets of client, 16 of server cookie
  EXPECT_NE(out.find("(good)"), std::string::npos) << out;
}

TEST_F(RateLimit, AValidServerCookieIsNotLimitedDuringAFlood) {
  std::string cookie = dig_cookie(server.dig("substitutes.guix.example.org A +cookie"));
  ASSERT_EQ(cookie.size(), 48u);
  std::atomic<bool> flooding{true};
  std::thread flooder([&] {
    flood(server.port());
    flooding = false;
  });
  std::this_thread::sleep_for(500ms);  // well into the flood, 127.0.0.1's account in debt
  std::vector<std::string> results;
  for (int i = 0; i < 5 && flooding; ++i) {
    // dig sends from 127.0.0.1 too; the cookie proves it is really there.
    std::string out = server.dig("substitutes.guix.example.org A +cookie=" + cookie);
    results.push_back(dig_status(out) + (dig_has_flag(out, "tc") ? " tc" : "") + " " +
                      std::to_string(dig_section(out, "ANSWER").size()));
  }
  flooder.join();
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results, std::vector<std::string>(results.size(), "NOERROR 2"));
}

TEST_F(RateLimit, TheFloodingClientIsAnsweredNormallyOnceItStops) {
  flood(server.port());
  std::this_thread::sleep_for(1500ms);  // the window (1s) and some
  UdpClient client("127.0.0.1", server.port());
  EXPECT_EQ(client.ask(), Reply::Full);
}

}  // namespace
}  // namespace geosteer::testing
