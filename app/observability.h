// What `serve` shows operators: Prometheus metrics (query path, mirrors,
// configuration), the status page, /status.json and /healthz, on one HTTP port.
// Lives on the control thread, like reloads and probes; the query path only
// increments its own per-thread counters (metrics::QueryMetrics).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "app/snapshot.h"
#include "healthcheck/probe.h"
#include "healthcheck/state.h"
#include "metrics/http_server.h"
#include "metrics/query_metrics.h"
#include "metrics/query_rate.h"
#include "metrics/status_page.h"

namespace geosteer::app {

class Observability {
 public:
  using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;
  using HealthSource = std::function<std::shared_ptr<const healthcheck::HealthState>()>;

  Observability(boost::asio::io_context& io, metrics::QueryMetrics& query_metrics,
                SnapshotSource snapshot, HealthSource health);
  ~Observability();

  // Starts the HTTP side as configured; throws std::system_error when it cannot bind.
  void start(const zones::MetricsConfig& config);
  void stop();
  uint16_t http_port() const;

  void config_loaded(const LoadedConfig& loaded);
  void config_failed();
  void probe_result(const healthcheck::Target& target, const healthcheck::ProbeResult& result,
                    const healthcheck::MirrorHealth& before, const healthcheck::MirrorHealth& after);
  // /healthz answers 200 only while serving.
  void set_serving(bool serving) { serving_ = serving; }
  // With anycast: whether this node announces its prefixes (geosteer_anycast_announced).
  void set_anycast_announced(bool announced) { anycast_announced_ = announced; }

  // The page and the exposition as the HTTP side serves them (also for tests).
  metrics::HttpResponse handle(std::string_view path);
  std::string metrics_text();
  metrics::StatusModel status_model();
  // Takes the totals the shares and the query rate are computed from: every 10 s on
  // the timer, and by tests.
  void sample_answers();

 private:
  void schedule_sampling();
  std::vector<prometheus::MetricFamily> mirror_gauges();
  void add_catchments(metrics::StatusModel& model, const Snapshot& snapshot);

  boost::asio::io_context& io_;
  metrics::QueryMetrics& query_metrics_;
  SnapshotSource snapshot_;
  HealthSource health_;
  bool serving_ = false;
  std::optional<bool> anycast_announced_;  // absent without anycast
  std::unique_ptr<metrics::HttpServer> http_;
  boost::asio::steady_timer sampler_;
  std::chrono::seconds share_window_{300};

  // Totals of answers per (service, mirror) at past instants, oldest first, for the
  // status page's shares over the last minutes.
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::map<std::pair<std::string, std::string>, uint64_t> answers;
  };
  std::deque<Sample> samples_;
  metrics::QueryRateHistory query_rate_;  // of the same instants

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>& probe_latency_;
  prometheus::Family<prometheus::Counter>& probes_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Gauge& generation_;
  prometheus::Gauge& last_load_success_;
  prometheus::Gauge& last_load_timestamp_;
  prometheus::Family<prometheus::Gauge>& geoip_build_epoch_;
  int64_t config_loaded_unix_ = 0;
};

}  // namespace geosteer::app
