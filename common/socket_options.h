// Socket options set with their outcome checked: a failure is logged naming the
// option and the socket, and an option the server cannot be correct without fails
// the bind with a clear error instead of leaving a half-working socket.
#pragma once

#include <optional>
#include <string_view>

namespace geosteer::socket_options {

enum class Need {
  Required,  // the socket is wrong without it: throw std::system_error
  Optional,  // a hardening or a performance option: log and go on
};

struct IntOption {
  int level;
  int name;
  int value;
  std::string_view text;  // as in the log: "IP_MTU_DISCOVER=IP_PMTUDISC_OMIT"
};

// Sets an integer option on `fd`; `socket` names the socket in messages
// ("udp 127.0.0.1:53"). Returns false when an Optional option failed.
bool set(int fd, const IntOption& option, std::string_view socket, Need need);

// The integer value of an option, or nothing when getsockopt fails.
std::optional<int> get(int fd, int level, int name);

// UDP: ignore path MTU information, so that forged ICMP "fragmentation needed" /
// "packet too big" messages cannot shrink our datagrams into fragments (the
// fragmentation attacks on DNS); as NSD does. IPv4: IP_PMTUDISC_OMIT, else
// IP_PMTUDISC_DONT. IPv6: IPV6_USE_MIN_MTU where it exists, else
// IPV6_MTU_DISCOVER=IPV6_PMTUDISC_OMIT, else IPV6_PMTUDISC_DONT. Optional: a
// failure is logged.
void ignore_path_mtu(int fd, bool ipv6, std::string_view socket);

}  // namespace geosteer::socket_options
