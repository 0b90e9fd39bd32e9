// The options of the server's listening sockets, read back with getsockopt from
// the sockets a running server bound: what is set is what the kernel holds.
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <vector>

#include "common/socket_options.h"
#include "tests/dns/server_fixture.h"

namespace geosteer::dns {
namespace {

namespace so = socket_options;

// The sockets of this process bound to `port` with the given family and type.
std::vector<int> sockets_on(uint16_t port, int family, int type) {
  std::vector<int> found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  while (dirent* entry = ::readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
    if (address.ss_family != family || so::get(fd, SOL_SOCKET, SO_TYPE) != type) continue;
    uint16_t bound = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in&>(address).sin_port)
                                       : ntohs(reinterpret_cast<sockaddr_in6&>(address).sin6_port);
    if (bound != port) continue;
    // Listening TCP sockets only, not accepted connections.
    if (type == SOCK_STREAM && so::get(fd, SOL_SOCKET, SO_ACCEPTCONN) != 1) continue;
    found.push_back(fd);
  }
  ::closedir(dir);
  return found;
}

class ListenerOptionsTest : public ::testing::Test {
 protected:
  test::RunningServer server{test::loopback_options(/*ipv6=*/true)};
  uint16_t v4_port = server.port(0);
  uint16_t v6_port = server.port(1);
};

TEST_F(ListenerOptionsTest, Ipv4UdpIgnoresPathMtuInformation) {
  auto fds = sockets_on(v4_port, AF_INET, SOCK_DGRAM);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(so::get(fds[0], IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_OMIT);
}

TEST_F(ListenerOptionsTest, Ipv6UdpIgnoresPathMtuInformation) {
  auto fds = sockets_on(v6_port, AF_INET6, SOCK_DGRAM);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(so::get(fds[0], IPPROTO_IPV6, IPV6_MTU_DISCOVER), IPV6_PMTUDISC_OMIT);
}

TEST_F(ListenerOptionsTest, UdpReceivesTheDestinationAddressOfEachQuery) {
  auto v4 = sockets_on(v4_port, AF_INET, SOCK_DGRAM);
  auto v6 = sockets_on(v6_port, AF_INET6, SOCK_DGRAM);
  ASSERT_EQ(v4.size(), 1u);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(so::get(v4[0], IPPROTO_IP, IP_PKTINFO), 1);
  EXPECT_EQ(so::get(v6[0], IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
}

TEST_F(ListenerOptionsTest, EverySocketSharesItsPortWithTheOtherQueryThreads) {
  for (auto [port, family] : {std::pair{v4_port, AF_INET}, std::pair{v6_port, AF_INET6}}) {
    for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
      auto fds = sockets_on(port, family, type);
      ASSERT_EQ(fds.size(), 1u) << "family " << family << " type " << type;
      EXPECT_EQ(so::get(fds[0], SOL_SOCKET, SO_REUSEPORT), 1);
    }
  }
}

TEST_F(ListenerOptionsTest, TcpListenersRebindOverLingeringConnections) {
  auto v4 = sockets_on(v4_port, AF_INET, SOCK_STREAM);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(so::get(v4[0], SOL_SOCKET, SO_REUSEADDR), 1);
}

TEST_F(ListenerOptionsTest, Ipv6SocketsLeaveIpv4ToTheirOwnListeners) {
  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    auto fds = sockets_on(v6_port, AF_INET6, type);
    ASSERT_EQ(fds.size(), 1u);
    EXPECT_EQ(so::get(fds[0], IPPROTO_IPV6, IPV6_V6ONLY), 1);
  }
}

}  // namespace
}  // namespace geosteer::dns
