// The options of the server's listening sockets, read back with getsockopt from
// the sockets a running server bound: what is set is what the kernel holds.
#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
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

TEST_F(ListenerOptionsTest, UdpBoundToOneAddressDoesNotAskForEachQuerysDestination) {
  // It answers from its own address anyway; the per-datagram control message would
  // only cost the kernel work on every query.
  auto v4 = sockets_on(v4_port, AF_INET, SOCK_DGRAM);
  auto v6 = sockets_on(v6_port, AF_INET6, SOCK_DGRAM);
  ASSERT_EQ(v4.size(), 1u);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(so::get(v4[0], IPPROTO_IP, IP_PKTINFO), 0);
  EXPECT_EQ(so::get(v6[0], IPPROTO_IPV6, IPV6_RECVPKTINFO), 0);
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

// --- a wildcard listener, in a network namespace of the test's own ----------------

// What the child reports through its exit status.
enum WildcardResult { kAnsweredFromTheQueriedAddress = 0, kAnsweredFromAnother, kNoAnswer, kNoNamespace };

// A private network namespace with its loopback up: nothing may listen on 0.0.0.0
// outside one. Root can make one directly; anyone else through a user namespace.
bool enter_private_network() {
  if (::unshare(CLONE_NEWNET) != 0 && ::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return false;
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ifreq lo{};
  std::strcpy(lo.ifr_name, "lo");
  bool up = fd >= 0 && ::ioctl(fd, SIOCGIFFLAGS, &lo) == 0;
  lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
  up = up && ::ioctl(fd, SIOCSIFFLAGS, &lo) == 0;
  if (fd >= 0) ::close(fd);
  return up;
}

// In the child: serves on 0.0.0.0 and asks 127.0.0.2, which is also loopback but
// not the address the kernel would pick to reach 127.0.0.1.
WildcardResult ask_a_wildcard_listener() {
  if (!enter_private_network()) return kNoNamespace;
  ServerOptions options;
  options.listen.push_back({IpAddress::v4({0, 0, 0, 0}), 0});
  options.threads = 1;
  test::RunningServer server(options);
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  timeval two_seconds{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port());
  to.sin_addr.s_addr = htonl(0x7f000002);
  test::Bytes query = test::www_query(0x5151);
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  uint8_t reply[512];
  sockaddr_in from{};
  socklen_t from_length = sizeof from;
  ssize_t n = ::recvfrom(fd, reply, sizeof reply, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
  ::close(fd);
  if (n <= 0) return kNoAnswer;
  return from.sin_addr.s_addr == to.sin_addr.s_addr ? kAnsweredFromTheQueriedAddress
                                                    : kAnsweredFromAnother;
}

TEST(WildcardListener, AnswersFromTheAddressTheQueryWasSentTo) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(ask_a_wildcard_listener());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  ASSERT_NE(WEXITSTATUS(status), kNoNamespace)
      << "could not make a network namespace: run the tests as root, or where user "
         "namespaces are allowed (a wildcard listener may not be tried outside one)";
  EXPECT_NE(WEXITSTATUS(status), kAnsweredFromAnother) << "the reply left from another address";
  EXPECT_EQ(WEXITSTATUS(status), kAnsweredFromTheQueriedAddress);
}

}  // namespace
}  // namespace geosteer::dns
