// DNS over TCP in the server: messages however they arrive, the idle and I/O
// timeouts, the keepalive option, and connection slots that idle clients cannot hold.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <thread>
#include <vector>

#include "common/fd_limit.h"
#include "dns/wire.h"
#include "tests/dns/server_fixture.h"
#include "tests/dns/tcp_client.h"

namespace geosteer::dns {
namespace {

using namespace std::chrono_literals;
using test::Bytes;
using test::TcpClient;

constexpr auto kGenerous = 2s;

ServerOptions options_with(std::chrono::milliseconds idle, std::chrono::milliseconds io,
                           unsigned max_connections = 512) {
  ServerOptions options = test::loopback_options();
  options.tcp_idle_timeout = idle;
  options.tcp_io_timeout = io;
  options.tcp_max_connections = max_connections;
  return options;
}

// True when the client gets an answer to a query with `id` within `limit`.
bool answered(TcpClient& client, uint16_t id, std::chrono::milliseconds limit = kGenerous) {
  std::array<uint8_t, 4096> response{};
  if (!client.send_message(test::www_query(id))) return false;
  size_t size = client.read_message(response, limit);
  return size > 0 && test::message_id({response.data(), size}) == id;
}

TEST(TcpServer, AnswersPipelinedQueriesInOrder) {
  test::RunningServer server(options_with(10s, 3s));
  TcpClient client(server.port());
  Bytes all;
  for (uint16_t id : {1, 2, 3}) {
    Bytes query = test::www_query(id);
    all.push_back(static_cast<uint8_t>(query.size() >> 8));
    all.push_back(static_cast<uint8_t>(query.size()));
    all.insert(all.end(), query.begin(), query.end());
  }
  ASSERT_TRUE(client.send_bytes(all));  // in one segment
  std::array<uint8_t, 4096> response{};
  for (uint16_t id : {1, 2, 3}) {
    size_t size = client.read_message(response, kGenerous);
    ASSERT_GT(size, 0u);
    EXPECT_EQ(test::message_id({response.data(), size}), id);
  }
}

TEST(TcpServer, AnswersAMessageThatArrivesByteByByte) {
  test::RunningServer server(options_with(10s, 3s));
  TcpClient client(server.port());
  Bytes query = test::www_query(7);
  Bytes framed{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  for (uint8_t byte : framed) {
    ASSERT_TRUE(client.send_bytes({&byte, 1}));
    std::this_thread::sleep_for(2ms);
  }
  std::array<uint8_t, 4096> response{};
  size_t size = client.read_message(response, kGenerous);
  ASSERT_GT(size, 0u);
  EXPECT_EQ(test::message_id({response.data(), size}), 7);
  EXPECT_TRUE(answered(client, 8)) << "the connection goes on after a split message";
}

TEST(TcpServer, MessageLongerThanAnyQueryClosesTheConnection) {
  test::RunningServer server(options_with(10s, 3s));
  TcpClient client(server.port());
  uint8_t length[2] = {0x13, 0x88};  // 5000 octets announced
  ASSERT_TRUE(client.send_bytes(length));
  EXPECT_TRUE(client.closed_within(kGenerous));
}

TEST(TcpServer, MessageInProgressIsClosedAfterTheIoTimeout) {
  test::RunningServer server(options_with(10s, 300ms));
  TcpClient client(server.port());
  auto start = std::chrono::steady_clock::now();
  uint8_t partial[3] = {0x00, 0x20, 0x12};  // 32 octets announced, one sent
  ASSERT_TRUE(client.send_bytes(partial));
  EXPECT_TRUE(client.closed_within(kGenerous));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST(TcpServer, TricklingBytesDoesNotExtendTheIoTimeout) {
  test::RunningServer server(options_with(10s, 400ms));
  TcpClient client(server.port());
  Bytes query = test::www_query(9);
  Bytes framed{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  ASSERT_GT(framed.size(), 10u);  // a byte each 100 ms: far longer than the I/O timeout
  bool closed = false;
  for (size_t i = 0; i < framed.size() - 1 && !closed; ++i) {  // never the last byte
    client.send_bytes({&framed[i], 1});
    closed = client.closed_within(100ms);
  }
  EXPECT_TRUE(closed) << "closed while the client was still trickling";
}

TEST(TcpServer, SilentConnectionOutlivesTheIoTimeoutUntilTheIdleTimeout) {
  test::RunningServer server(options_with(1s, 200ms));
  TcpClient client(server.port());
  EXPECT_FALSE(client.closed_within(600ms)) << "idle, not in the middle of a message";
  EXPECT_TRUE(client.closed_within(kGenerous));
}

TEST(TcpServer, AnsweredQueryRestartsTheIdleTimeout) {
  test::RunningServer server(options_with(800ms, 200ms));
  TcpClient client(server.port());
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(answered(client, 1));
  EXPECT_FALSE(client.closed_within(500ms)) << "1 s after connecting, 0.5 s after the answer";
  EXPECT_TRUE(client.closed_within(kGenerous));
}

// Queries for the 8 KB TXT answer, pipelined in one buffer.
Bytes big_queries(uint16_t count) {
  Bytes all;
  for (uint16_t id = 0; id < count; ++id) {
    Bytes query = test::www_query(id, {}, false, "big.example.org.", 16);
    all.push_back(static_cast<uint8_t>(query.size() >> 8));
    all.push_back(static_cast<uint8_t>(query.size()));
    all.insert(all.end(), query.begin(), query.end());
  }
  return all;
}

TEST(TcpServer, ClientReadingSlowlyGetsEveryAnswerInOrder) {
  test::RunningServer server(options_with(10s, 3s));
  TcpClient client(server.port(), false, 4096);
  constexpr uint16_t kQueries = 1000;  // 8 MB of answers: more than the kernel buffers
  ASSERT_TRUE(client.send_bytes(big_queries(kQueries)));
  std::this_thread::sleep_for(200ms);  // the server's writes block meanwhile
  std::array<uint8_t, 16384> response{};
  uint16_t in_order = 0;
  for (uint16_t id = 0; id < kQueries; ++id) {
    size_t size = client.read_message(response, kGenerous);
    if (size == 0 || test::message_id({response.data(), size}) != id) break;
    ++in_order;
  }
  EXPECT_EQ(in_order, kQueries);
}

TEST(TcpServer, ClientThatStopsReadingIsClosedAfterTheIoTimeout) {
  test::RunningServer server(options_with(10s, 300ms));
  TcpClient client(server.port(), false, 4096);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send_bytes(big_queries(1000)));
  EXPECT_TRUE(client.reset_within(kGenerous));  // never reading
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST(TcpServer, KeepaliveOptionTellsTheIdleTimeout) {
  test::RunningServer server(options_with(2500ms, 1s));
  TcpClient client(server.port());
  ASSERT_TRUE(client.send_message(test::www_query(5, {test::keepalive_option()})));
  std::array<uint8_t, 4096> response{};
  size_t size = client.read_message(response, kGenerous);
  test::Packet p = test::decode({response.data(), size});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::TcpKeepalive), (Bytes{0x00, 25}));
}

TEST(TcpServer, FullSlotsCloseTheMostIdleConnectionForANewOne) {
  test::RunningServer server(options_with(10s, 3s, 3));
  TcpClient a(server.port());
  TcpClient b(server.port());
  TcpClient c(server.port());
  ASSERT_TRUE(answered(a, 1));  // a is now the least idle; b the most
  TcpClient d(server.port());
  EXPECT_TRUE(b.closed_within(kGenerous));
  EXPECT_TRUE(answered(d, 2));
  EXPECT_TRUE(answered(a, 3));
  EXPECT_TRUE(answered(c, 4));
}

// The trial that found the problem: idle connections must not lock out a new client.
TEST(TcpServer, NewClientIsAnsweredWithinASecondAfter2000IdleConnections) {
  constexpr size_t kIdle = 2000;
  // The test holds every client socket and the server its slots, in one process.
  FdLimit limit = raise_fd_limit();
  if (limit.soft < kIdle + 1024) {
    GTEST_SKIP() << "open files limit " << limit.soft << " (hard " << limit.hard
                 << ") is too low for " << kIdle << " connections";
  }
  test::RunningServer server(options_with(10s, 3s));  // 512 slots on one thread
  std::vector<std::unique_ptr<TcpClient>> idle;
  idle.reserve(kIdle);
  for (size_t i = 0; i < kIdle; ++i) idle.push_back(std::make_unique<TcpClient>(server.port()));

  auto start = std::chrono::steady_clock::now();
  TcpClient newcomer(server.port());
  EXPECT_TRUE(answered(newcomer, 42, 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  // The oldest idle connections made room; the latest still hold their slots.
  EXPECT_TRUE(idle.front()->closed_within(kGenerous));
  EXPECT_FALSE(idle.back()->closed_within(100ms));
}

}  // namespace
}  // namespace geosteer::dns
