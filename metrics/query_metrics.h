// Counters of the query path, kept per thread so that no two query threads ever
// write the same cache line: each thread increments its own block with plain
// relaxed stores, and a scrape sums the blocks. Label sets are closed (a fixed
// list of query types and RCODEs) or interned at configuration load (service and
// mirror names), so counting never allocates.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "common/ip.h"
#include "metrics/catchment.h"

namespace geosteer::metrics {

enum class Transport : uint8_t { Udp, Tcp };
// Why a message got no reply: too short to answer, rate limited, or a response
// (QR=1), which is never answered (RFC 1035 section 4.1.1).
enum class DropReason : uint8_t { Malformed, RateLimited, Response };
inline constexpr size_t kDropReasons = static_cast<size_t>(DropReason::Response) + 1;
enum class FallbackKind : uint8_t { Fallback, FailOpen };

// Query types with their own label value; every other type counts as "other".
constexpr uint16_t kTrackedQtypes[] = {1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 64, 65, 255, 252, 251, 257};
constexpr size_t kQtypeSlots = std::size(kTrackedQtypes) + 1;
// RCODEs with their own label value (NOERROR..REFUSED, BADVERS); others are "other".
constexpr uint16_t kTrackedRcodes[] = {0, 1, 2, 3, 4, 5, 16};
constexpr size_t kRcodeSlots = std::size(kTrackedRcodes) + 1;

constexpr size_t kMaxAnswerLabels = 4096;  // (service, mirror) pairs ever seen
constexpr size_t kMaxServiceLabels = 256;

// One thread's counters. Only its thread writes; scrapes read with relaxed loads.
struct alignas(64) ThreadCounters {
  std::atomic<uint64_t> queries[2][kQtypeSlots][kRcodeSlots] = {};
  std::atomic<uint64_t> ecs_queries{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> dropped[kDropReasons] = {};
  std::atomic<uint64_t> slipped{0};
  std::atomic<uint64_t> answers[kMaxAnswerLabels] = {};
  std::atomic<uint64_t> first_answers[kMaxAnswerLabels] = {};
  std::atomic<uint64_t> fallback[kMaxServiceLabels][2] = {};
  std::atomic<uint64_t> unlocated{0};
  CatchmentRing catchment;  // samples of who was answered which mirror first

  // Single writer: a load and a store, no read-modify-write, no lock prefix.
  static void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class QueryMetrics {
 public:
  QueryMetrics();
  ~QueryMetrics();

  // The calling thread's block, created and registered on its first call.
  ThreadCounters& local();

  void count_query(Transport transport, uint16_t qtype, uint16_t rcode);
  void count_ecs() { ThreadCounters::bump(local().ecs_queries); }
  void count_truncated() { ThreadCounters::bump(local().truncated); }
  // A rate-limited response sent as an empty truncated reply instead (a "slip").
  void count_slipped() { ThreadCounters::bump(local().slipped); }
  void count_dropped(DropReason reason) {
    ThreadCounters::bump(local().dropped[static_cast<size_t>(reason)]);
  }
  void count_answer(uint32_t answer_label) { ThreadCounters::bump(local().answers[answer_label]); }
  // The mirror answered first: the one closest first meant the client to use.
  void count_first_answer(uint32_t answer_label) {
    ThreadCounters::bump(local().first_answers[answer_label]);
  }
  void count_fallback(uint32_t service_label, FallbackKind kind) {
    ThreadCounters::bump(local().fallback[service_label][static_cast<size_t>(kind)]);
  }
  void count_unlocated() { ThreadCounters::bump(local().unlocated); }
  // A sample of who was answered what, for the status page's catchments: the mirror
  // answered first (its answer label) and the client's network, host bits cleared.
  // Allocation-free; only some answers are kept when there are many (CatchmentRing).
  void record_catchment(uint32_t answer_label, const IpAddress& network, uint8_t prefix) {
    local().catchment.record(catchment_clock(), catchment_window_.load(std::memory_order_relaxed),
                             answer_label, network, prefix);
  }
  // The window the catchments are shown over, which the rings size their sampling to.
  void set_catchment_window(uint32_t seconds) {
    catchment_window_.store(seconds, std::memory_order_relaxed);
  }
  // Every thread's samples no older than the window at `now` (catchment_clock()).
  std::vector<CatchmentSample> catchment_samples(uint32_t now) const;
  // The (service, mirror) of each answer label, indexed by label.
  std::vector<std::pair<std::string, std::string>> answer_label_names() const;
  // Queries answered, over every transport, type and RCODE: geosteer_dns_queries_total summed.
  uint64_t total_queries() const;

  // Label ids, stable for the life of the process (counters must never go back).
  // Called at configuration load; a full table returns the last id, shared as
  // "overflow", and logs it once.
  uint32_t answer_label(std::string_view service, std::string_view mirror);
  uint32_t service_label(std::string_view service);

  // Sum over threads of the answers given per (service, mirror) label.
  struct AnswerTotal {
    std::string service, mirror;
    uint64_t count;
  };
  std::vector<AnswerTotal> answer_totals() const;

  // Every family above, summed over threads, for a Prometheus text exposition.
  std::vector<prometheus::MetricFamily> collect() const;

 private:
  // Unique per instance for the life of the process: the per-thread cache is keyed
  // by it, not by address, because a new instance may reuse a destroyed one's address.
  const uint64_t id_;
  std::atomic<uint32_t> catchment_window_{300};
  mutable std::mutex mutex_;  // guards the lists below, never taken by a query
  std::vector<std::unique_ptr<ThreadCounters>> threads_;
  std::vector<std::pair<std::string, std::string>> answer_labels_;
  std::vector<std::string> service_labels_;
};

}  // namespace geosteer::metrics
