// Everything a query needs, built once per configuration load or health change and
// never modified afterwards. Query threads read the current snapshot through a
// SnapshotReader, which touches shared memory only when a new one was published.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "dns/responder.h"
#include "healthcheck/state.h"
#include "metrics/query_metrics.h"
#include "ratelimit/limiter.h"
#include "steering/engine.h"
#include "zones/config.h"
#include "zones/zone.h"

namespace geosteer::app {

// What one configuration file loads into; shared by every snapshot built from it,
// so a health change rebuilds only the steering engine.
struct LoadedConfig {
  zones::Config config;
  zones::ZoneSet zones;
  std::shared_ptr<const steering::GeoIp> geoip;
  std::vector<steering::Mirror> mirrors;  // indexed like config.mirrors
  std::vector<steering::ServiceSpec> services;
  // Response rate limiting of UDP answers; its table is made here, at load, and
  // shared by the query threads. A reload starts with a fresh table.
  std::shared_ptr<ratelimit::Limiter> limiter;
  uint64_t generation = 0;  // counts successful loads
};

// Where steering decisions are counted: the process's query metrics and the label
// ids of this configuration's services and mirrors, interned once per snapshot.
struct SteeringCounters {
  SteeringCounters(metrics::QueryMetrics& metrics, const LoadedConfig& loaded);
  metrics::QueryMetrics& metrics;
  std::vector<uint32_t> service_labels;              // by service index
  std::vector<std::vector<uint32_t>> answer_labels;  // by service, then mirror index
};

// dns::DynamicAnswers on top of the steering engine: the one place where DNS and
// geography meet.
class SteeringAnswers : public dns::DynamicAnswers {
 public:
  SteeringAnswers(const steering::Engine& engine, const SteeringCounters* counters)
      : engine_(engine), counters_(counters) {}
  void answer(int service, Family family, const dns::ClientSubnet& client,
              dns::DynamicAnswer& out) const override;
  // The lines of app/explanation.h, as TXT character-strings.
  size_t explain(int service, const dns::ClientSubnet& client,
                 std::span<char> out) const override;

 private:
  void count(size_t service, const steering::Decision& decision) const;

  const steering::Engine& engine_;
  const SteeringCounters* counters_;  // null: not counted (check, locate, tests)
};

struct Snapshot {
  // `metrics` may be null: the snapshot's answers are then not counted.
  Snapshot(std::shared_ptr<const LoadedConfig> loaded,
           std::shared_ptr<const healthcheck::HealthState> health,
           metrics::QueryMetrics* metrics = nullptr);
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  const std::shared_ptr<const LoadedConfig> loaded;
  const zones::Config& config;
  const uint64_t generation;
  const steering::Engine engine;
  const std::optional<SteeringCounters> counters;
  const SteeringAnswers answers;
  const dns::Responder responder;  // refers to loaded->zones and answers above
};

class SnapshotStore {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> current() const { return current_.load(std::memory_order_acquire); }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> version_{0};
};

// Per-thread view of a store: one counter read per query; the shared pointer is
// copied only after a publish. Not thread-safe itself: one per thread.
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotStore& store) : store_(store) {}
  const Snapshot& get() {
    uint64_t version = store_.version();
    if (version != seen_) {
      snapshot_ = store_.current();
      seen_ = version;
    }
    return *snapshot_;
  }

 private:
  const SnapshotStore& store_;
  uint64_t seen_ = UINT64_MAX;
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace geosteer::app
