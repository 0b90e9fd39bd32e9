// How the server stops: nothing new is read, idle TCP connections close at once,
// and a TCP query in the middle of arriving is still answered before its
// connection closes.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <future>
#include <thread>

#include "tests/dns/server_fixture.h"
#include "tests/dns/tcp_client.h"

namespace geosteer::dns {
namespace {

using std::chrono::milliseconds;
using test::Bytes;

// A server whose stop() and end the test controls.
class StoppableServer {
 public:
  StoppableServer() : server_(test::loopback_options(), handler_) {
    ran_ = std::async(std::launch::async, [this] { server_.run(); });
  }
  ~StoppableServer() {
    server_.stop();
    ran_.wait();
  }
  uint16_t port() const { return server_.bound_udp()[0].port; }
  void stop() { server_.stop(); }
  bool ended_within(milliseconds limit) { return ran_.wait_for(limit) == std::future_status::ready; }

 private:
  test::ResponderHandler handler_;
  Server server_;
  std::future<void> ran_;
};

// The query with its two-byte length prefix, as it goes over TCP.
Bytes framed(const Bytes& query) {
  Bytes out{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
  out.insert(out.end(), query.begin(), query.end());
  return out;
}

TEST(GracefulStop, AnIdleConnectionIsClosedAtOnceAndTheServerEnds) {
  StoppableServer server;
  test::TcpClient client(server.port());
  ASSERT_TRUE(client.send_message(test::www_query(1)));
  std::array<uint8_t, 512> answer{};
  ASSERT_GT(client.read_message(answer, milliseconds(2000)), 0u);
  server.stop();
  EXPECT_TRUE(client.closed_within(milliseconds(1000)));
  EXPECT_TRUE(server.ended_within(milliseconds(1000)));
}

TEST(GracefulStop, AQueryHalfSentAtStopIsAnsweredBeforeTheConnectionCloses) {
  StoppableServer server;
  test::TcpClient client(server.port());
  Bytes message = framed(test::www_query(7));
  size_t half = message.size() / 2;
  ASSERT_TRUE(client.send_bytes({message.data(), half}));
  std::this_thread::sleep_for(milliseconds(100));  // the server has read the first half
  server.stop();
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(client.send_bytes({message.data() + half, message.size() - half}));
  std::array<uint8_t, 512> answer{};
  size_t length = client.read_message(answer, milliseconds(2000));
  ASSERT_GT(length, 0u) << "the query in progress was not answered";
  EXPECT_EQ(test::message_id({answer.data(), length}), 7);
  EXPECT_TRUE(client.closed_within(milliseconds(1000))) << "the connection stayed open after it";
  EXPECT_TRUE(server.ended_within(milliseconds(1000)));
}

TEST(GracefulStop, NoConnectionIsAcceptedAfterStop) {
  StoppableServer server;
  uint16_t port = server.port();
  server.stop();
  ASSERT_TRUE(server.ended_within(milliseconds(1000)));
  EXPECT_THROW(test::TcpClient client(port), std::runtime_error);
}

}  // namespace
}  // namespace geosteer::dns
