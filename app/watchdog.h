// systemd's watchdog (WatchdogSec=), fed only while the server answers itself:
// every half interval a self-check asks each listener one question, and only a
// round every listener answered sends WATCHDOG=1. A query thread that hangs, or a
// listener that stops answering, stops the pings, and systemd restarts the service.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/service_notify.h"
#include "dns/self_check.h"

namespace geosteer::app {

class Watchdog {
 public:
  // Does nothing unless `notifier` has a watchdog interval.
  Watchdog(boost::asio::io_context& io, const ServiceNotifier& notifier,
           std::vector<dns::Endpoint> listeners);
  void start();
  void stop();

 private:
  void schedule();
  void check();
  void judged(std::optional<std::string> failure);

  const ServiceNotifier& notifier_;
  std::chrono::microseconds period_{0};
  std::optional<dns::SelfCheck> self_check_;
  boost::asio::steady_timer timer_;
  bool failing_ = false;
  bool stopped_ = false;
};

}  // namespace geosteer::app
