#include "common/socket_options.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/log.h"

namespace geosteer::socket_options {

namespace {

std::string attempt(const IntOption& option, std::string_view socket) {
  return "setsockopt(" + std::string(option.text) + ") on " + std::string(socket);
}

std::string failure(const IntOption& option, std::string_view socket, int error) {
  return attempt(option, socket) + " failed: " + std::generic_category().message(error);
}

bool apply(int fd, const IntOption& option) {
  return ::setsockopt(fd, option.level, option.name, &option.value, sizeof option.value) == 0;
}

// Tries each option in turn until one is accepted; false when none was.
bool set_first_of(int fd, std::initializer_list<IntOption> options, std::string_view socket) {
  for (const IntOption& option : options) {
    if (apply(fd, option)) return true;
    log::info(failure(option, socket, errno) + "; trying the next way");
  }
  return false;
}

constexpr IntOption kIpv4Omit{IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT,
                              "IP_MTU_DISCOVER=IP_PMTUDISC_OMIT"};
constexpr IntOption kIpv4Dont{IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT,
                              "IP_MTU_DISCOVER=IP_PMTUDISC_DONT"};
constexpr IntOption kIpv6Omit{IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_OMIT,
                              "IPV6_MTU_DISCOVER=IPV6_PMTUDISC_OMIT"};
constexpr IntOption kIpv6Dont{IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT,
                              "IPV6_MTU_DISCOVER=IPV6_PMTUDISC_DONT"};

}  // namespace

bool set(int fd, const IntOption& option, std::string_view socket, Need need) {
  if (apply(fd, option)) return true;
  int error = errno;
  if (need == Need::Required) {
    // what(): "setsockopt(SO_REUSEPORT) on udp 127.0.0.1:53: Protocol not available"
    throw std::system_error(error, std::generic_category(), attempt(option, socket));
  }
  log::warning(failure(option, socket, error));
  return false;
}

std::optional<int> get(int fd, int level, int name) {
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, level, name, &value, &length) != 0) return std::nullopt;
  return value;
}

void ignore_path_mtu(int fd, bool ipv6, std::string_view socket) {
  bool done;
  if (ipv6) {
#ifdef IPV6_USE_MIN_MTU
    constexpr IntOption kMinMtu{IPPROTO_IPV6, IPV6_USE_MIN_MTU, 1, "IPV6_USE_MIN_MTU=1"};
    done = set_first_of(fd, {kMinMtu, kIpv6Omit, kIpv6Dont}, socket);
#else
    done = set_first_of(fd, {kIpv6Omit, kIpv6Dont}, socket);
#endif
  } else {
    done = set_first_of(fd, {kIpv4Omit, kIpv4Dont}, socket);
  }
  if (!done) {
    log::warning("path MTU discovery stays on for " + std::string(socket) +
                 ": forged ICMP could make its large answers fragment");
  }
}

}  // namespace geosteer::socket_options
