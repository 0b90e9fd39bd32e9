// systemd's service notification protocol (sd_notify(3)), spoken directly: one
// datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. It
// is what Type=notify units wait for (READY=1), what `systemctl reload` watches
// (RELOADING=1 ... READY=1), what `systemctl status` shows (STATUS=) and what the
// watchdog expects (WATCHDOG=1). Without $NOTIFY_SOCKET every call does nothing,
// so the server behaves the same outside systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace geosteer {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET ("/path" or "@abstract") and, for the watchdog,
  // $WATCHDOG_USEC and $WATCHDOG_PID. A socket that cannot be opened is logged
  // and leaves the notifier disabled.
  static ServiceNotifier from_environment();
  ServiceNotifier() = default;
  ~ServiceNotifier();
  ServiceNotifier(ServiceNotifier&& other) noexcept;
  ServiceNotifier& operator=(ServiceNotifier&& other) noexcept;

  bool enabled() const { return fd_ >= 0; }
  // Sends `state` ("READY=1\nSTATUS=serving"). Returns false when it could not be
  // sent (logged) or when disabled.
  bool notify(std::string_view state) const;
  // The watchdog interval systemd expects a WATCHDOG=1 within, when it watches
  // this process (WatchdogSec= set and WATCHDOG_PID absent or ours).
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

  // "MONOTONIC_USEC=..." of now, which RELOADING=1 must carry for Type=notify-reload.
  static std::string monotonic_usec();

 private:
  int fd_ = -1;
  std::string address_;  // sun_path bytes, a leading '\0' for an abstract socket
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace geosteer
