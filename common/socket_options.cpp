#include "common/socket_options.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/log.h"

namespace geosteer::socket_options {

namespace {

std::string failure(const IntOption& option, std::string_view socket, int error) {
  return "setsockopt(" + std::string(option.text) + ") on " + std::string(socket) +
         " failed: " + std::generic_category().message(error);
}

// Tries each option in turn until one is accepted; false when none was.
bool set_first_of(int fd, std::initializer_list<IntOption> options, std::string_view socket) {
  for (const IntOption& option : options) {
    if (::setsockopt(fd, option.level, option.name, &option.value, sizeof option.value) == 0) {
      return true;
    }
    log::info(failure(option, socket, errno) + "; trying the next way");
  }
  return false;
}

}  // namespace

bool set(int fd, const IntOption& option, std::string_view socket, Need need) {
  if (::setsockopt(fd, option.level, option.name, &option.value, sizeof option.value) == 0) {
    return true;
  }
  int error = errno;
  if (need == Need::Required) throw std::system_error(error, std::generic_category(), failure(option, socket, error));
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
    done = set_first_of(fd,
                        {{IPPROTO_IPV6, IPV6_USE_MIN_MTU, 1, "IPV6_USE_MIN_MTU=1"},
                         {IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_OMIT,
                          "IPV6_MTU_DISCOVER=IPV6_PMTUDISC_OMIT"},
                         {IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT,
                          "IPV6_MTU_DISCOVER=IPV6_PMTUDISC_DONT"}},
                        socket);
#else
    done = set_first_of(fd,
                        {{IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_OMIT,
                          "IPV6_MTU_DISCOVER=IPV6_PMTUDISC_OMIT"},
                         {IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT,
                          "IPV6_MTU_DISCOVER=IPV6_PMTUDISC_DONT"}},
                        socket);
#endif
  } else {
    done = set_first_of(fd,
                        {{IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT, "IP_MTU_DISCOVER=IP_PMTUDISC_OMIT"},
                         {IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, "IP_MTU_DISCOVER=IP_PMTUDISC_DONT"}},
                        socket);
  }
  if (!done) {
    log::warning("path MTU discovery stays on for " + std::string(socket) +
                 ": forged ICMP could make its large answers fragment");
  }
}

}  // namespace geosteer::socket_options
