#include "app/snapshot.h"

#include <algorithm>
#include <iterator>
#include <random>
#include <stdexcept>

#include "app/explanation.h"

namespace geosteer::app {
namespace {

steering::Client steering_client(const dns::ClientSubnet& client) {
  return {client.address, client.source_prefix, client.from_ecs};
}

// Drawn once per process, so that reloads keep the cookies clients hold valid.
const dns::CookieSecret& process_cookie_secret() {
  static const dns::CookieSecret secret = [] {
    std::random_device random;
    dns::CookieSecret s;
    for (auto& byte : s) byte = static_cast<uint8_t>(random());
    return s;
  }();
  return secret;
}

dns::ResponderOptions responder_options(const zones::ServerConfig& server) {
  dns::ResponderOptions options;
  options.identity = server.identity;
  options.max_udp_payload = server.max_udp_payload;
  options.cookie_secret = server.cookie_secret.value_or(process_cookie_secret());
  return options;
}

}  // namespace

SteeringCounters::SteeringCounters(metrics::QueryMetrics& metrics_in, const LoadedConfig& loaded)
    : metrics(metrics_in) {
  for (const auto& service : loaded.services) {
    service_labels.push_back(metrics.service_label(service.name));
    std::vector<uint32_t> by_mirror(loaded.mirrors.size(), 0);
    for (uint16_t index : service.mirrors) {
      by_mirror[index] = metrics.answer_label(service.name, loaded.mirrors[index].id);
    }
    answer_labels.push_back(std::move(by_mirror));
  }
}

namespace {

// The client network a catchment sample keeps: the client's own (its ECS source
// prefix), no longer than /24 or /56, the source prefixes RFC 7871 (section 11.1)
// recommends to resolvers, so that a resolver's own address is not kept whole. Not the answer's scope: that
// is how far the same answer reaches, often far beyond the client's city (a /6, say),
// and GeoIP would place the network's first address instead of the client.
uint8_t catchment_prefix(const dns::ClientSubnet& client) {
  const uint8_t longest = client.address.family == Family::V4 ? 24 : 56;
  return client.source_prefix < longest ? client.source_prefix : longest;
}

}  // namespace

// Per-thread counters: a few plain stores, no allocation, no shared cache line.
void SteeringAnswers::count(size_t service, const steering::Decision& decision,
                            const dns::ClientSubnet& client) const {
  if (counters_ == nullptr) return;
  for (uint16_t index : decision.chosen()) {
    counters_->metrics.count_answer(counters_->answer_labels[service][index]);
  }
  if (decision.count > 0) {
    const uint32_t first = counters_->answer_labels[service][decision.mirrors[0]];
    counters_->metrics.count_first_answer(first);
    const uint8_t prefix = catchment_prefix(client);
    counters_->metrics.record_catchment(first, client.address.masked(prefix), prefix);
  }
  uint32_t service_label = counters_->service_labels[service];
  if (decision.tier == steering::Tier::Fallback) {
    counters_->metrics.count_fallback(service_label, metrics::FallbackKind::Fallback);
  } else if (decision.tier == steering::Tier::FailOpen) {
    counters_->metrics.count_fallback(service_label, metrics::FallbackKind::FailOpen);
  }
  if (decision.reason == steering::Reason::Fallback ||
      decision.reason == steering::Reason::ConfigOrder) {
    counters_->metrics.count_unlocated();
  }
}

void SteeringAnswers::answer(int service, Family family, const dns::ClientSubnet& client,
                             dns::DynamicAnswer& out) const {
  steering::Decision decision =
      engine_.choose(static_cast<size_t>(service), family, steering_client(client));
  count(static_cast<size_t>(service), decision, client);
  out.count = 0;
  const steering::ServiceSpec& spec = engine_.services()[static_cast<size_t>(service)];
  // Fewer answers than asked, for want of a mirror within failover_km: the client
  // should ask again soon rather than keep a list without a second choice.
  out.ttl = decision.short_of_failover ? spec.failover_ttl : spec.ttl;
  out.scope_prefix = decision.scope_prefix;
  for (uint16_t index : decision.chosen()) {
    for (const IpAddress& address : engine_.answer_addresses(index, family)) {
      if (out.count == dns::DynamicAnswer::kMaxAddresses) return;
      out.addresses[out.count++] = address;
    }
  }
}

size_t SteeringAnswers::explain(int service, const dns::ClientSubnet& client,
                                std::span<char> out) const {
  TxtRdataSink sink(out);
  explain_service(engine_, static_cast<size_t>(service), steering_client(client), sink);
  return sink.size();
}

Snapshot::Snapshot(std::shared_ptr<const LoadedConfig> loaded_in,
                   std::shared_ptr<const healthcheck::HealthState> health,
                   metrics::QueryMetrics* metrics, std::vector<bool> drained)
    : loaded(std::move(loaded_in)),
      config(loaded->config),
      generation(loaded->generation),
      engine(loaded->steering, std::move(health), std::move(drained)),
      counters(metrics ? std::optional<SteeringCounters>(std::in_place, *metrics, *loaded)
                       : std::nullopt),
      answers(engine, counters ? &*counters : nullptr),
      responder(loaded->zones, answers, responder_options(config.server)) {}

SnapshotStore::SnapshotStore(size_t max_readers)
    : slots_(std::make_unique<Slot[]>(max_readers)), slot_count_(max_readers) {}

SnapshotStore::~SnapshotStore() = default;

void SnapshotStore::publish(std::shared_ptr<const Snapshot> snapshot) {
  const Snapshot* raw = snapshot.get();
  std::shared_ptr<const Snapshot> replaced = current_.exchange(std::move(snapshot));
  raw_.store(raw, std::memory_order_seq_cst);
  if (replaced) {
    std::lock_guard lock(retired_mutex_);
    retired_.push_back(std::move(replaced));
  }
}

bool SnapshotStore::held(const Snapshot* snapshot) const {
  for (size_t i = 0; i < slot_count_; ++i) {
    if (slots_[i].hazard.load(std::memory_order_seq_cst) == snapshot) return true;
  }
  return false;
}

size_t SnapshotStore::reclaim() {
  std::vector<std::shared_ptr<const Snapshot>> freed;
  size_t still_held;
  {
    std::lock_guard lock(retired_mutex_);
    auto keep = std::partition(retired_.begin(), retired_.end(),
                               [this](const auto& snapshot) { return held(snapshot.get()); });
    freed.assign(std::make_move_iterator(keep), std::make_move_iterator(retired_.end()));
    retired_.erase(keep, retired_.end());
    still_held = retired_.size();
  }
  return still_held;  // `freed` is destroyed here, outside the lock
}

size_t SnapshotStore::retired() const {
  std::lock_guard lock(retired_mutex_);
  return retired_.size();
}

SnapshotStore::Slot* SnapshotStore::take_slot() {
  for (size_t i = 0; i < slot_count_; ++i) {
    bool expected = false;
    if (slots_[i].taken.compare_exchange_strong(expected, true)) return &slots_[i];
  }
  throw std::runtime_error("more query threads than snapshot reader slots (" +
                           std::to_string(slot_count_) + ")");
}

SnapshotReader::SnapshotReader(SnapshotStore& store) : store_(store), slot_(store.take_slot()) {}

SnapshotReader::~SnapshotReader() {
  slot_->hazard.store(nullptr, std::memory_order_release);
  slot_->taken.store(false, std::memory_order_release);
}

}  // namespace geosteer::app
