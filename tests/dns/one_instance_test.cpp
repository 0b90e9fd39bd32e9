// One server per address: a second one fails at start instead of silently sharing
// the port through SO_REUSEPORT and taking half the queries.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <system_error>

#include "common/asio.h"
#include "tests/dns/server_fixture.h"
#include "tests/dns/tcp_client.h"

namespace geosteer::dns {
namespace {

namespace asio = boost::asio;

ServerOptions on_loopback_port(uint16_t port) {
  ServerOptions options = test::loopback_options();
  options.listen[0].port = port;
  return options;
}

// The message of the error a server started on `port` fails with; empty if it starts.
std::string start_error(uint16_t port) {
  test::ResponderHandler handler;
  try {
    Server second(on_loopback_port(port), handler);
  } catch (const std::system_error& e) {
    return e.what();
  }
  return "";
}

TEST(OneInstance, ASecondServerOnTheSameAddressFailsNamingIt) {
  test::RunningServer first(test::loopback_options());
  uint16_t port = first.port();
  std::string error = start_error(port);
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << error;
  EXPECT_NE(error.find("another process holds UDP port"), std::string::npos) << error;
}

TEST(OneInstance, AHolderOfTheTcpPortAloneIsFoundToo) {
  // A listener as another server's query thread opens it: ready to share the port.
  asio::io_context io;
  asio::ip::tcp::acceptor holder(io);
  holder.open(asio::ip::tcp::v4());
  holder.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  ASSERT_EQ(::setsockopt(holder.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
  holder.bind({asio::ip::make_address("127.0.0.1"), 0});
  holder.listen();
  std::string error = start_error(holder.local_endpoint().port());
  EXPECT_NE(error.find("another process holds TCP port"), std::string::npos) << error;
}

TEST(OneInstance, ARestartedServerBindsOverItsLingeringConnections) {
  uint16_t port;
  std::optional<test::TcpClient> client;  // outlives the server
  {
    test::RunningServer first(test::loopback_options());
    port = first.port();
    client.emplace(port);
    ASSERT_TRUE(client->send_message(test::www_query(1)));
    std::array<uint8_t, 512> answer{};
    ASSERT_GT(client->read_message(answer, std::chrono::seconds(2)), 0u);
  }  // the server stops and closes the connection first: TIME_WAIT is on its side
  EXPECT_EQ(start_error(port), "");
}

}  // namespace
}  // namespace geosteer::dns
