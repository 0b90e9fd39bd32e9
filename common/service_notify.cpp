#include "common/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "common/log.h"

namespace geosteer {
namespace {

std::optional<std::chrono::microseconds> watchdog_from_environment() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::nullopt;
  // WATCHDOG_PID names the process systemd watches; a child that inherited the
  // variables must not ping on its parent's behalf.
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr) {
    char* end = nullptr;
    long watched = std::strtol(pid, &end, 10);
    if (*end != '\0' || watched != static_cast<long>(::getpid())) return std::nullopt;
  }
  char* end = nullptr;
  unsigned long long value = std::strtoull(usec, &end, 10);
  if (*end != '\0' || value == 0) {
    log::warning(std::string("ignoring WATCHDOG_USEC='") + usec + "': not a positive number");
    return std::nullopt;
  }
  return std::chrono::microseconds(value);
}

}  // namespace

ServiceNotifier ServiceNotifier::from_environment() {
  ServiceNotifier notifier;
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr || *socket_name == '\0') return notifier;
  std::string address = socket_name;
  if (address[0] != '/' && address[0] != '@') {
    log::warning("ignoring NOTIFY_SOCKET='" + address + "': neither a path nor @abstract");
    return notifier;
  }
  if (address.size() >= sizeof(sockaddr_un::sun_path)) {
    log::warning("ignoring NOTIFY_SOCKET='" + address + "': too long for a socket address");
    return notifier;
  }
  if (address[0] == '@') address[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log::warning(std::string("cannot notify systemd: socket: ") + std::strerror(errno));
    return notifier;
  }
  notifier.fd_ = fd;
  notifier.address_ = std::move(address);
  notifier.watchdog_ = watchdog_from_environment();
  return notifier;
}

ServiceNotifier::~ServiceNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

ServiceNotifier::ServiceNotifier(ServiceNotifier&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(std::move(other.address_)),
      watchdog_(other.watchdog_) {}

ServiceNotifier& ServiceNotifier::operator=(ServiceNotifier&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
    watchdog_ = other.watchdog_;
  }
  return *this;
}

bool ServiceNotifier::notify(std::string_view state) const {
  if (fd_ < 0) return false;
  sockaddr_un to{};
  to.sun_family = AF_UNIX;
  std::memcpy(to.sun_path, address_.data(), address_.size());
  // An abstract name is exactly its bytes; a path ends at its terminating zero.
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                            (address_[0] == '\0' ? 0 : 1));
  ssize_t sent = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&to), length);
  if (sent < 0) {
    log::warning(std::string("cannot notify systemd: ") + std::strerror(errno));
    return false;
  }
  return true;
}

std::string ServiceNotifier::monotonic_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t usec = uint64_t(now.tv_sec) * 1000000 + uint64_t(now.tv_nsec) / 1000;
  return "MONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace geosteer
