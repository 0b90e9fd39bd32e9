// The control side of a running server, on one thread (the control io_context):
// reloads, health changes and run-time drains, each publishing a complete new
// snapshot; the stop sequence's first step; and what `geosteer ctl status` shows.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/admin_state.h"
#include "app/loader.h"
#include "app/observability.h"
#include "app/snapshot.h"
#include "common/asio.h"
#include "common/service_notify.h"
#include "healthcheck/checker.h"
#include "metrics/query_metrics.h"

namespace geosteer::app {

// "127.0.0.1:53 [::1]:53": the listen addresses of a configuration.
std::string listen_list(const zones::Config& config);

class Control {
 public:
  // The outcome of a reload: the errors (file:line:column) when it failed.
  using ReloadDone = std::function<void(bool ok, const std::vector<std::string>& errors)>;

  Control(boost::asio::io_context& io, std::string path, std::shared_ptr<const LoadedConfig> loaded,
          SnapshotStore& store, metrics::QueryMetrics& query_metrics,
          const ServiceNotifier& notifier, AdminState admin);
  // A stop waits for a load that is running: it cannot be interrupted, and takes at
  // most one map compile.
  ~Control();

  // Throws std::system_error when the metrics port cannot be bound.
  void start();
  // The first step of a stop: /healthz turns 503 so that whatever watches it moves
  // clients elsewhere, while queries are still answered.
  void begin_stop();
  void stop();
  bool stopping() const { return stopping_; }

  // SIGHUP and `ctl reload`. Loading parses the files and compiles the steering map,
  // seconds on a large GeoIP database, so it runs on a thread of its own: probes,
  // health changes and the monitoring port carry on meanwhile, and queries are
  // answered from the current snapshot. The result is switched over here, on the
  // control thread. A reload asked for while one runs loads once more after it, so
  // the last edit of the file is always the one loaded; `done` hears of the load
  // that started after it was asked for.
  void reload(ReloadDone done = {});

  // `ctl drain` / `ctl undrain`: an error message, or nothing when done (and saved).
  std::optional<std::string> set_drained(const std::string& mirror, bool drained);

  // `ctl status`, for people and for machines.
  std::string status_text();
  std::string status_json();

  std::chrono::milliseconds drain_time() const { return loaded_->config.server.drain_time; }

  // Anycast, when configured: its line in `ctl status`, the metric, and the
  // operator's withdraw kept with the drains.
  void set_anycast_status(std::function<std::string()> status) { anycast_status_ = std::move(status); }
  void anycast_changed(bool announced) { observability_.set_anycast_announced(announced); }
  bool withdrawn_by_operator() const { return admin_.withdrawn(); }
  // False while the last snapshot could not be built: answers follow stale health.
  bool publishing() const { return publishing_; }
  // An error message, or nothing when saved.
  std::optional<std::string> set_withdrawn_by_operator(bool withdrawn);

 private:
  struct Loaded {
    std::shared_ptr<const LoadedConfig> config;  // null when the file cannot be used
    std::vector<std::string> errors;
  };
  static Loaded load_for_reload(const std::string& path, uint64_t generation);
  void start_load();
  void switch_over(Loaded next);
  void publish(std::shared_ptr<const healthcheck::HealthState> health);
  void reclaim();

  boost::asio::io_context& io_;
  const ServiceNotifier& notifier_;
  std::string path_;
  std::shared_ptr<const LoadedConfig> loaded_;
  SnapshotStore& store_;
  metrics::QueryMetrics& query_metrics_;
  AdminState admin_;
  boost::asio::steady_timer reclaim_timer_;
  healthcheck::Checker checker_;
  Observability observability_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // The reload in progress, if any; all of this is only touched on the control thread.
  std::thread loader_;
  bool loading_ = false;
  bool reload_again_ = false;
  std::vector<ReloadDone> waiting_for_this_load_;
  std::vector<ReloadDone> waiting_for_next_load_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::function<std::string()> anycast_status_;
  bool publishing_ = true;
};

}  // namespace geosteer::app
