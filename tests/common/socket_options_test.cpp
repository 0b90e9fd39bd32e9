// Socket options set with their outcome checked.
#include "common/socket_options.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <system_error>

namespace geosteer::socket_options {
namespace {

class SocketOptionsTest : public ::testing::Test {
 protected:
  ~SocketOptionsTest() override { ::close(fd); }
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  // An IPv6 option on an IPv4 socket: the kernel refuses it.
  IntOption refused{IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"};
};

TEST_F(SocketOptionsTest, AcceptedOptionIsSet) {
  EXPECT_TRUE(set(fd, {SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"}, "udp test", Need::Required));
  EXPECT_EQ(get(fd, SOL_SOCKET, SO_REUSEPORT), 1);
}

TEST_F(SocketOptionsTest, RefusedRequiredOptionThrowsNamingOptionAndSocket) {
  try {
    set(fd, refused, "udp 127.0.0.1:53", Need::Required);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("IPV6_V6ONLY"), std::string::npos) << what;
    EXPECT_NE(what.find("udp 127.0.0.1:53"), std::string::npos) << what;
  }
}

TEST_F(SocketOptionsTest, RefusedOptionalOptionReturnsFalse) {
  EXPECT_FALSE(set(fd, refused, "udp 127.0.0.1:53", Need::Optional));
}

TEST_F(SocketOptionsTest, GetOfAnOptionTheSocketHasNotIsNothing) {
  EXPECT_FALSE(get(fd, IPPROTO_IPV6, IPV6_V6ONLY).has_value());
}

TEST_F(SocketOptionsTest, Ipv4PathMtuInformationIsIgnored) {
  ignore_path_mtu(fd, false, "udp test");
  EXPECT_EQ(get(fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_OMIT);
}

}  // namespace
}  // namespace geosteer::socket_options
