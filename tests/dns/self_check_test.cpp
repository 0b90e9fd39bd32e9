// The server asking its own listeners: what counts as an answer, and what a
// failure names.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "common/asio.h"
#include "dns/self_check.h"
#include "tests/dns/server_fixture.h"

namespace geosteer::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using std::chrono::milliseconds;

// Runs one round on its own io_context and returns its outcome.
std::optional<std::string> one_round(std::vector<Endpoint> listeners, milliseconds timeout) {
  asio::io_context io;
  SelfCheck check(io, std::move(listeners), timeout);
  std::optional<std::string> outcome = "round never finished";
  check.run_once([&](std::optional<std::string> failure) { outcome = std::move(failure); });
  io.run_for(timeout + milliseconds(2000));
  return outcome;
}

// A UDP socket on 127.0.0.1 that answers each datagram with `reply(query)`, or
// not at all when that is empty, on a thread of its own.
class FakeListener {
 public:
  explicit FakeListener(std::function<std::vector<uint8_t>(std::vector<uint8_t>)> reply)
      : socket_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), reply_(std::move(reply)) {
    receive();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeListener() {
    asio::post(io_, [this] { socket_.close(); });
    thread_.join();
  }
  Endpoint endpoint() const { return {IpAddress::v4({127, 0, 0, 1}), socket_.local_endpoint().port()}; }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), peer_, [this](auto ec, size_t n) {
      if (ec) return;
      auto answer = reply_(std::vector<uint8_t>(buffer_.begin(), buffer_.begin() + n));
      if (!answer.empty()) socket_.send_to(asio::buffer(answer), peer_);
      receive();
    });
  }
  asio::io_context io_;
  udp::socket socket_;
  udp::endpoint peer_;
  std::array<uint8_t, 512> buffer_{};
  std::function<std::vector<uint8_t>(std::vector<uint8_t>)> reply_;
  std::thread thread_;
};

TEST(SelfCheck, EveryListenerOfARunningServerAnswers) {
  test::RunningServer server(test::loopback_options(/*ipv6=*/true));
  std::vector<Endpoint> listeners = {{IpAddress::v4({127, 0, 0, 1}), server.port(0)},
                                     {*IpAddress::parse("::1"), server.port(1)}};
  EXPECT_EQ(one_round(listeners, milliseconds(1000)), std::nullopt);
}

TEST(SelfCheck, AWildcardListenerIsAskedOnLoopback) {
  ServerOptions options = test::loopback_options();
  options.listen[0].address = IpAddress::v4({0, 0, 0, 0});
  test::RunningServer server(options);
  EXPECT_EQ(one_round({{IpAddress::v4({0, 0, 0, 0}), server.port()}}, milliseconds(1000)),
            std::nullopt);
}

TEST(SelfCheck, ASilentListenerIsNamedAfterTheTimeout) {
  FakeListener silent([](std::vector<uint8_t>) { return std::vector<uint8_t>{}; });
  auto failure = one_round({silent.endpoint()}, milliseconds(200));
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, "udp 127.0.0.1:" + std::to_string(silent.endpoint().port) +
                          ": no answer within 200 ms");
}

TEST(SelfCheck, OneSilentListenerAmongAnsweringOnesFailsTheRound) {
  test::RunningServer server(test::loopback_options());
  FakeListener silent([](std::vector<uint8_t>) { return std::vector<uint8_t>{}; });
  auto failure = one_round({{IpAddress::v4({127, 0, 0, 1}), server.port()}, silent.endpoint()},
                           milliseconds(300));
  ASSERT_TRUE(failure.has_value());
  EXPECT_NE(failure->find(std::to_string(silent.endpoint().port)), std::string::npos) << *failure;
}

TEST(SelfCheck, AReplyToAnotherQuestionIsNotAnAnswer) {
  FakeListener wrong_id([](std::vector<uint8_t> query) {
    query[1] ^= 0xff;  // another ID
    query[2] |= 0x80;  // QR: a response
    return query;
  });
  EXPECT_TRUE(one_round({wrong_id.endpoint()}, milliseconds(200)).has_value());
}

TEST(SelfCheck, AQueryEchoedBackIsNotAnAnswer) {
  // Same ID but QR clear: a packet reflected to us, not a server's response.
  FakeListener echo([](std::vector<uint8_t> query) { return query; });
  EXPECT_TRUE(one_round({echo.endpoint()}, milliseconds(200)).has_value());
}

}  // namespace
}  // namespace geosteer::dns
