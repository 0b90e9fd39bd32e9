#include "app/watchdog.h"

#include <algorithm>

#include "common/log.h"

namespace geosteer::app {

Watchdog::Watchdog(boost::asio::io_context& io, const ServiceNotifier& notifier,
                   std::vector<dns::Endpoint> listeners)
    : notifier_(notifier), timer_(io) {
  auto interval = notifier.watchdog_interval();
  if (!interval) return;
  // Half the interval, as sd_watchdog_enabled(3) advises: one late round is not yet
  // a missed deadline. The round itself gets at most a quarter, and a second at most:
  // a local answer takes microseconds.
  period_ = *interval / 2;
  auto timeout = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 4),
                            std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
  self_check_.emplace(io, std::move(listeners), timeout);
}

void Watchdog::start() {
  if (!self_check_) return;
  log::info("feeding systemd's watchdog every " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(period_).count()) +
            " ms while every listener answers");
  check();
}

void Watchdog::stop() {
  stopped_ = true;
  timer_.cancel();
  self_check_.reset();  // abandons a round in flight
}

void Watchdog::schedule() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) check();
  });
}

void Watchdog::check() {
  self_check_->run_once([this](std::optional<std::string> failure) { judged(std::move(failure)); });
}

void Watchdog::judged(std::optional<std::string> failure) {
  if (stopped_) return;
  if (!failure) {
    notifier_.notify(failing_ ? "WATCHDOG=1\nSTATUS=serving; every listener answers again"
                              : "WATCHDOG=1");
    if (failing_) log::info("self-check: every listener answers again; feeding the watchdog");
    failing_ = false;
  } else {
    if (!failing_) {
      log::warning("self-check failed: " + *failure + "; not feeding systemd's watchdog");
      notifier_.notify("STATUS=self-check failed: " + *failure);
    }
    failing_ = true;
  }
  schedule();
}

}  // namespace geosteer::app
