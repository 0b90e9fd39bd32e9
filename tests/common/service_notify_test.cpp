// The sd_notify(3) datagrams as systemd receives them: read back from a socket
// standing in for systemd's.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "common/service_notify.h"

namespace geosteer {
namespace {

// An AF_UNIX datagram socket bound to `name` ("/path" or "@abstract"), and
// $NOTIFY_SOCKET pointing at it for the test's duration.
class FakeSystemd {
 public:
  explicit FakeSystemd(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name_.data(), name_.size());
    if (name_[0] == '@') address.sun_path[0] = '\0';
    socklen_t length = offsetof(sockaddr_un, sun_path) + name_.size() + (name_[0] == '@' ? 0 : 1);
    if (name_[0] == '/') ::unlink(name_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0) << std::strerror(errno);
    timeval timeout{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setenv("NOTIFY_SOCKET", name_.c_str(), 1);
  }
  ~FakeSystemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }
  std::string receive() {
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n < 0 ? std::string() : std::string(buffer, static_cast<size_t>(n));
  }

 private:
  std::string name_;
  int fd_ = -1;
};

class WatchdogEnvironment {
 public:
  WatchdogEnvironment(const std::string& usec, const std::string& pid) {
    ::setenv("WATCHDOG_USEC", usec.c_str(), 1);
    if (!pid.empty()) ::setenv("WATCHDOG_PID", pid.c_str(), 1);
  }
  ~WatchdogEnvironment() {
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
};

TEST(ServiceNotifier, WithoutNotifySocketItIsDisabledAndSendsNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  auto notifier = ServiceNotifier::from_environment();
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
}

TEST(ServiceNotifier, ReadyReachesASocketNamedByAPath) {
  FakeSystemd systemd("/tmp/geosteer-notify-test-" + std::to_string(::getpid()));
  auto notifier = ServiceNotifier::from_environment();
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("READY=1\nSTATUS=serving"));
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=serving");
}

TEST(ServiceNotifier, ReadyReachesAnAbstractSocket) {
  FakeSystemd systemd("@geosteer-notify-test-" + std::to_string(::getpid()));
  auto notifier = ServiceNotifier::from_environment();
  EXPECT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
}

TEST(ServiceNotifier, WatchdogIntervalIsReadWhenSystemdWatchesThisProcess) {
  FakeSystemd systemd("@geosteer-notify-test-" + std::to_string(::getpid()));
  WatchdogEnvironment watchdog("30000000", std::to_string(::getpid()));
  auto notifier = ServiceNotifier::from_environment();
  ASSERT_TRUE(notifier.watchdog_interval().has_value());
  EXPECT_EQ(*notifier.watchdog_interval(), std::chrono::seconds(30));
}

TEST(ServiceNotifier, WatchdogOfAnotherProcessIsNotOurs) {
  FakeSystemd systemd("@geosteer-notify-test-" + std::to_string(::getpid()));
  WatchdogEnvironment watchdog("30000000", std::to_string(::getpid() + 1));
  EXPECT_FALSE(ServiceNotifier::from_environment().watchdog_interval().has_value());
}

TEST(ServiceNotifier, ReloadingCarriesTheMonotonicClockInMicroseconds) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  std::string field = ServiceNotifier::monotonic_usec();
  ASSERT_EQ(field.rfind("MONOTONIC_USEC=", 0), 0u) << field;
  uint64_t usec = std::stoull(field.substr(15));
  uint64_t expected = uint64_t(now.tv_sec) * 1000000 + uint64_t(now.tv_nsec) / 1000;
  EXPECT_GE(usec, expected);
  EXPECT_LT(usec - expected, 1000000u);
}

}  // namespace
}  // namespace geosteer
