#include "app/snapshot.h"

namespace geosteer::app {

void SteeringAnswers::answer(int service, Family family, const dns::ClientSubnet& client,
                             dns::DynamicAnswer& out) const {
  steering::Client steering_client{client.address, client.source_prefix, client.from_ecs};
  steering::Decision decision = engine_.choose(static_cast<size_t>(service), family, steering_client);
  out.count = 0;
  out.ttl = engine_.services()[static_cast<size_t>(service)].ttl;
  out.scope_prefix = decision.scope_prefix;
  for (uint16_t index : decision.chosen()) {
    const steering::Mirror& mirror = engine_.mirrors()[index];
    for (const IpAddress& address : family == Family::V4 ? mirror.ipv4 : mirror.ipv6) {
      if (out.count == dns::DynamicAnswer::kMaxAddresses) return;
      out.addresses[out.count++] = address;
    }
  }
}

Snapshot::Snapshot(std::shared_ptr<const LoadedConfig> loaded_in,
                   std::shared_ptr<const healthcheck::HealthState> health)
    : loaded(std::move(loaded_in)),
      config(loaded->config),
      generation(loaded->generation),
      engine(loaded->mirrors, loaded->services, loaded->geoip, std::move(health)),
      answers(engine),
      responder(loaded->zones, answers,
                dns::ResponderOptions{config.server.identity, config.server.max_udp_payload}) {}

void SnapshotStore::publish(std::shared_ptr<const Snapshot> snapshot) {
  current_.store(std::move(snapshot), std::memory_order_release);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace geosteer::app
