#include "metrics/query_metrics.h"

#include <span>

#include "common/log.h"

namespace geosteer::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using Blocks = std::vector<std::unique_ptr<ThreadCounters>>;

// Label values, indexed like the slots of ThreadCounters.
constexpr std::string_view kQtypeNames[kQtypeSlots] = {
    "A",  "NS",   "CNAME", "SOA", "PTR",  "MX",   "TXT", "AAAA", "SRV",
    "DS", "SVCB", "HTTPS", "ANY", "AXFR", "IXFR", "CAA", "other"};
constexpr std::string_view kRcodeNames[kRcodeSlots] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other"};
constexpr std::string_view kTransportNames[] = {"udp", "tcp"};
constexpr std::string_view kDropReasonNames[] = {"malformed", "rate_limited", "response"};
constexpr std::string_view kFallbackKindNames[] = {"fallback", "fail_open"};
static_assert(std::size(kDropReasonNames) == kDropReasons, "one name per drop reason");
static_assert(kQtypeNames[kQtypeSlots - 1] == "other", "one name per tracked query type");
static_assert(kRcodeNames[kRcodeSlots - 1] == "other", "one name per tracked RCODE");

// Shared by every name that did not fit in a full label table.
constexpr std::string_view kOverflowLabel = "overflow";

// The slot of `value`: its index among the tracked values, else the last ("other").
constexpr size_t slot_of(std::span<const uint16_t> tracked, uint16_t value) {
  for (size_t i = 0; i < tracked.size(); ++i) {
    if (tracked[i] == value) return i;
  }
  return tracked.size();
}
static_assert(slot_of(kTrackedQtypes, 28) == 7 && slot_of(kTrackedQtypes, 99) == 16);

// The query path's view of its own blocks. Keyed by instance id rather than address:
// a test's instance may be destroyed and a new one built at the same address.
struct CachedBlock {
  uint64_t owner = 0;
  ThreadCounters* block = nullptr;
};
thread_local CachedBlock t_last_block;             // hit on every count but the first
thread_local std::vector<CachedBlock> t_blocks;    // every instance this thread counted for

std::atomic<uint64_t> g_next_instance_id{1};

template <typename CounterOf>
uint64_t sum_over(const Blocks& blocks, CounterOf counter_of) {
  uint64_t total = 0;
  for (const auto& block : blocks) total += counter_of(*block).load(std::memory_order_relaxed);
  return total;
}

MetricFamily counter_family(std::string name, std::string help) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Counter;
  return family;
}

void add_sample(MetricFamily& family, std::vector<ClientMetric::Label> labels, uint64_t value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = static_cast<double>(value);
  family.metric.push_back(std::move(metric));
}

ClientMetric::Label label(std::string name, std::string_view value) {
  return {std::move(name), std::string(value)};
}

}  // namespace

QueryMetrics::QueryMetrics() : id_(g_next_instance_id.fetch_add(1, std::memory_order_relaxed)) {}

QueryMetrics::~QueryMetrics() = default;

ThreadCounters& QueryMetrics::local() {
  if (t_last_block.owner == id_) [[likely]] {
    return *t_last_block.block;
  }
  // Slow path: this thread's first count for this instance, or a switch between
  // instances on one thread (tests). Reuse this thread's block when it has one, so
  // that switching back and forth never grows the list.
  for (const CachedBlock& known : t_blocks) {
    if (known.owner == id_) {
      t_last_block = known;
      return *known.block;
    }
  }
  ThreadCounters* block;
  {
    std::lock_guard lock(mutex_);
    // Owned by the instance, not the thread: a thread's counts outlive the thread.
    block = threads_.emplace_back(std::make_unique<ThreadCounters>()).get();
  }
  t_last_block = {id_, block};
  t_blocks.push_back(t_last_block);
  return *block;
}

void QueryMetrics::count_query(Transport transport, uint16_t qtype, uint16_t rcode) {
  ThreadCounters::bump(local().queries[static_cast<size_t>(transport)]
                                      [slot_of(kTrackedQtypes, qtype)]
                                      [slot_of(kTrackedRcodes, rcode)]);
}

uint32_t QueryMetrics::answer_label(std::string_view service, std::string_view mirror) {
  std::lock_guard lock(mutex_);
  for (size_t id = 0; id < answer_labels_.size(); ++id) {
    if (answer_labels_[id].first == service && answer_labels_[id].second == mirror) {
      return static_cast<uint32_t>(id);
    }
  }
  constexpr size_t overflow_id = kMaxAnswerLabels - 1;
  if (answer_labels_.size() < overflow_id) {
    answer_labels_.emplace_back(service, mirror);
    return static_cast<uint32_t>(answer_labels_.size() - 1);
  }
  if (answer_labels_.size() == overflow_id) {
    answer_labels_.emplace_back(kOverflowLabel, kOverflowLabel);
    log::warning("metrics: more than " + std::to_string(overflow_id) +
                 " (service, mirror) pairs; further answers count as service=\"overflow\"");
  }
  return static_cast<uint32_t>(overflow_id);
}

uint32_t QueryMetrics::service_label(std::string_view service) {
  std::lock_guard lock(mutex_);
  for (size_t id = 0; id < service_labels_.size(); ++id) {
    if (service_labels_[id] == service) return static_cast<uint32_t>(id);
  }
  constexpr size_t overflow_id = kMaxServiceLabels - 1;
  if (service_labels_.size() < overflow_id) {
    service_labels_.emplace_back(service);
    return static_cast<uint32_t>(service_labels_.size() - 1);
  }
  if (service_labels_.size() == overflow_id) {
    service_labels_.emplace_back(kOverflowLabel);
    log::warning("metrics: more than " + std::to_string(overflow_id) +
                 " services; further fallbacks count as service=\"overflow\"");
  }
  return static_cast<uint32_t>(overflow_id);
}

std::vector<QueryMetrics::AnswerTotal> QueryMetrics::answer_totals() const {
  std::lock_guard lock(mutex_);
  std::vector<AnswerTotal> totals;
  totals.reserve(answer_labels_.size());
  for (size_t id = 0; id < answer_labels_.size(); ++id) {
    uint64_t count = sum_over(threads_, [id](const ThreadCounters& t) -> auto& {
      return t.answers[id];
    });
    totals.push_back({answer_labels_[id].first, answer_labels_[id].second, count});
  }
  return totals;
}

std::vector<CatchmentSample> QueryMetrics::catchment_samples(uint32_t now) const {
  const uint32_t window = catchment_window_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  std::vector<CatchmentSample> samples;
  for (const auto& block : threads_) block->catchment.collect(now, window, samples);
  return samples;
}

std::vector<std::pair<std::string, std::string>> QueryMetrics::answer_label_names() const {
  std::lock_guard lock(mutex_);
  return answer_labels_;
}

uint64_t QueryMetrics::total_queries() const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& block : threads_) {
    for (const auto& by_transport : block->queries) {
      for (const auto& by_qtype : by_transport) {
        for (const auto& counter : by_qtype) total += counter.load(std::memory_order_relaxed);
      }
    }
  }
  return total;
}

std::vector<MetricFamily> QueryMetrics::collect() const {
  std::lock_guard lock(mutex_);
  std::vector<MetricFamily> families;

  auto queries = counter_family("geosteer_dns_queries_total",
                                "DNS queries answered, by transport, query type and RCODE.");
  for (size_t transport = 0; transport < std::size(kTransportNames); ++transport) {
    for (size_t qtype = 0; qtype < kQtypeSlots; ++qtype) {
      for (size_t rcode = 0; rcode < kRcodeSlots; ++rcode) {
        uint64_t count = sum_over(threads_, [&](const ThreadCounters& t) -> auto& {
          return t.queries[transport][qtype][rcode];
        });
        // Counters never go back, so a series once non-zero stays exposed; the
        // hundreds of combinations never seen would only bloat every scrape.
        if (count == 0) continue;
        add_sample(queries,
                   {label("transport", kTransportNames[transport]),
                    label("qtype", kQtypeNames[qtype]), label("rcode", kRcodeNames[rcode])},
                   count);
      }
    }
  }
  families.push_back(std::move(queries));

  auto ecs = counter_family("geosteer_dns_ecs_queries_total",
                            "DNS queries that carried a valid EDNS Client Subnet option.");
  add_sample(ecs, {}, sum_over(threads_, [](const ThreadCounters& t) -> auto& {
               return t.ecs_queries;
             }));
  families.push_back(std::move(ecs));

  auto truncated = counter_family("geosteer_dns_truncated_total",
                                  "DNS responses sent truncated (TC bit set).");
  add_sample(truncated, {}, sum_over(threads_, [](const ThreadCounters& t) -> auto& {
               return t.truncated;
             }));
  families.push_back(std::move(truncated));

  auto dropped = counter_family("geosteer_dns_dropped_total",
                                "DNS messages dropped without an answer, by reason.");
  for (size_t reason = 0; reason < std::size(kDropReasonNames); ++reason) {
    add_sample(dropped, {label("reason", kDropReasonNames[reason])},
               sum_over(threads_, [reason](const ThreadCounters& t) -> auto& {
                 return t.dropped[reason];
               }));
  }
  families.push_back(std::move(dropped));

  auto slipped = counter_family(
      "geosteer_dns_slipped_total",
      "UDP responses over the rate limit sent as an empty truncated reply (slip) instead.");
  add_sample(slipped, {}, sum_over(threads_, [](const ThreadCounters& t) -> auto& {
               return t.slipped;
             }));
  families.push_back(std::move(slipped));

  auto answers = counter_family("geosteer_steering_answers_total",
                                "Mirrors handed out in steered answers, by service and mirror.");
  for (size_t id = 0; id < answer_labels_.size(); ++id) {
    add_sample(answers,
               {label("service", answer_labels_[id].first),
                label("mirror", answer_labels_[id].second)},
               sum_over(threads_, [id](const ThreadCounters& t) -> auto& {
                 return t.answers[id];
               }));
  }
  families.push_back(std::move(answers));

  auto first_answers = counter_family(
      "geosteer_steering_first_answers_total",
      "Steered answers whose first mirror this was, by service and mirror: the shares "
      "spread_km and weights give, and where clients go with answers: 1.");
  for (size_t id = 0; id < answer_labels_.size(); ++id) {
    add_sample(first_answers,
               {label("service", answer_labels_[id].first),
                label("mirror", answer_labels_[id].second)},
               sum_over(threads_, [id](const ThreadCounters& t) -> auto& {
                 return t.first_answers[id];
               }));
  }
  families.push_back(std::move(first_answers));

  auto fallback = counter_family(
      "geosteer_steering_fallback_total",
      "Steered answers taken from the fallback mirrors (fallback) or from every mirror "
      "(fail_open) because no healthy mirror was left, by service.");
  for (size_t id = 0; id < service_labels_.size(); ++id) {
    for (size_t kind = 0; kind < std::size(kFallbackKindNames); ++kind) {
      add_sample(fallback,
                 {label("service", service_labels_[id]), label("kind", kFallbackKindNames[kind])},
                 sum_over(threads_, [id, kind](const ThreadCounters& t) -> auto& {
                   return t.fallback[id][kind];
                 }));
    }
  }
  families.push_back(std::move(fallback));

  auto unlocated = counter_family("geosteer_steering_unlocated_total",
                                  "Steered queries whose client GeoIP could not locate.");
  add_sample(unlocated, {}, sum_over(threads_, [](const ThreadCounters& t) -> auto& {
               return t.unlocated;
             }));
  families.push_back(std::move(unlocated));

  return families;
}

}  // namespace geosteer::metrics
