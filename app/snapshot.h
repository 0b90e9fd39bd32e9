// Everything a query needs, built once per configuration load or health change and
// never modified afterwards. Query threads read the current snapshot through a
// SnapshotReader (see SnapshotStore for how snapshots are published and freed).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

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
  // Every service's choice for every address, compiled from the above and GeoIP;
  // health changes build new engines on it, never a new map.
  std::shared_ptr<const steering::SteeringMap> steering;
  std::chrono::nanoseconds steering_build_time{0};
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
  void count(size_t service, const steering::Decision& decision,
             const dns::ClientSubnet& client) const;

  const steering::Engine& engine_;
  const SteeringCounters* counters_;  // null: not counted (check, locate, tests)
};

struct Snapshot {
  // `metrics` may be null: the snapshot's answers are then not counted.
  // `drained`: mirrors taken out at run time (geosteer ctl drain), by index.
  Snapshot(std::shared_ptr<const LoadedConfig> loaded,
           std::shared_ptr<const healthcheck::HealthState> health,
           metrics::QueryMetrics* metrics = nullptr, std::vector<bool> drained = {});
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

// Publication and reclamation of snapshots. The query path is wait-free and takes
// no reference count: each query thread owns a hazard slot (a SnapshotReader) where
// it announces the snapshot it is reading for the length of one query. The control
// thread publishes, keeps every replaced snapshot on a retired list, and frees one
// in reclaim() once no slot names it. So a snapshot, and the GeoIP files it maps,
// is freed on the control thread, never on a query thread, and promptly: a thread
// that gets no queries holds nothing.
class SnapshotStore {
 public:
  static constexpr size_t kDefaultReaders = 1024;
  explicit SnapshotStore(size_t max_readers = kDefaultReaders);
  ~SnapshotStore();
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  // Control thread: makes `snapshot` current and retires the one it replaces.
  void publish(std::shared_ptr<const Snapshot> snapshot);
  // Control thread: frees the retired snapshots no reader holds; returns how many
  // retired snapshots are still held (call again later while it is not 0).
  size_t reclaim();
  // Any thread, off the query path (status page, scrapes): a counted reference.
  std::shared_ptr<const Snapshot> current() const { return current_.load(std::memory_order_acquire); }
  size_t retired() const;

 private:
  friend class SnapshotReader;
  // One cache line per slot: readers on different cores never share one.
  struct alignas(64) Slot {
    std::atomic<const Snapshot*> hazard{nullptr};
    std::atomic<bool> taken{false};
  };
  Slot* take_slot();
  bool held(const Snapshot* snapshot) const;

  std::unique_ptr<Slot[]> slots_;
  size_t slot_count_;
  std::atomic<const Snapshot*> raw_{nullptr};
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  mutable std::mutex retired_mutex_;  // publish and reclaim may run on different threads in tests
  std::vector<std::shared_ptr<const Snapshot>> retired_;
};

// One query thread's hazard slot. pin() returns the current snapshot, safe to read
// until the Pin is destroyed; pins of one reader do not nest.
class SnapshotReader {
 public:
  explicit SnapshotReader(SnapshotStore& store);  // throws when every slot is taken
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  class Pin {
   public:
    explicit Pin(SnapshotStore::Slot& slot, const Snapshot& snapshot) : slot_(slot), snapshot_(snapshot) {}
    ~Pin() { slot_.hazard.store(nullptr, std::memory_order_release); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    const Snapshot& operator*() const { return snapshot_; }
    const Snapshot* operator->() const { return &snapshot_; }

   private:
    SnapshotStore::Slot& slot_;
    const Snapshot& snapshot_;
  };

  Pin pin() {
    const Snapshot* snapshot = store_.raw_.load(std::memory_order_acquire);
    for (;;) {
      // Announce, then check the announcement was in time: a publish that replaced
      // `snapshot` before the announcement became visible is seen by this load, and
      // one after it sees the announcement in reclaim(). (seq_cst on both sides.)
      slot_->hazard.store(snapshot, std::memory_order_seq_cst);
      const Snapshot* again = store_.raw_.load(std::memory_order_seq_cst);
      if (again == snapshot) return Pin(*slot_, *snapshot);
      snapshot = again;
    }
  }

 private:
  SnapshotStore& store_;
  SnapshotStore::Slot* slot_;
};

}  // namespace geosteer::app
