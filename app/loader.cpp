#include "app/loader.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <unordered_map>

#include "common/log.h"

namespace geosteer::app {
namespace {

using zones::ConfigError;
using zones::ConfigErrors;

std::shared_ptr<const steering::GeoIp> open_geoip(const zones::Config& config,
                                                  std::vector<ConfigError>& errors) {
  try {
    return steering::GeoIp::open(config.geoip.databases);
  } catch (const steering::GeoIpError& e) {
    const auto& positions = config.geoip.positions;
    zones::SourcePos pos = e.database_index < positions.size() ? positions[e.database_index]
                                                               : zones::SourcePos{config.path};
    errors.push_back({pos, e.what(), "check the path and that the file is a MaxMind DB (.mmdb)"});
    return nullptr;
  }
}

// A mirror without `location:` is placed where GeoIP puts its first address.
std::optional<steering::Coordinates> locate_mirror(const zones::MirrorConfig& mirror,
                                                   const steering::GeoIp* geoip,
                                                   std::vector<ConfigError>& errors) {
  if (mirror.location) return steering::Coordinates{mirror.location->lat, mirror.location->lon};
  const IpAddress& first = mirror.ipv4.empty() ? mirror.ipv6.front() : mirror.ipv4.front();
  if (geoip != nullptr) {
    auto found = geoip->lookup(first);
    if (found.location.coordinates) return found.location.coordinates;
  }
  errors.push_back({mirror.pos,
                    "mirror '" + mirror.id + "' has no location and GeoIP has no coordinates for " +
                        first.to_string(),
                    "add location: {lat: ..., lon: ...} to the mirror"});
  return std::nullopt;
}

std::vector<uint16_t> indices(const std::vector<std::string>& ids,
                              const std::unordered_map<std::string, uint16_t>& index_of) {
  std::vector<uint16_t> out;
  for (const auto& id : ids) out.push_back(index_of.at(id));  // references were validated
  return out;
}

steering::ServiceSpec service_spec(const zones::Service& service,
                                   const std::unordered_map<std::string, uint16_t>& index_of) {
  steering::ServiceSpec spec;
  spec.name = service.fqdn;
  spec.mirrors = indices(service.mirrors, index_of);
  spec.answers = service.answers;
  spec.ttl = service.ttl;
  spec.fallback = indices(service.fallback, index_of);
  for (const auto& [country, ids] : service.overrides.countries) {
    spec.country_overrides.emplace_back(country, indices(ids, index_of));
  }
  for (const auto& [continent, ids] : service.overrides.continents) {
    spec.continent_overrides.emplace_back(continent, indices(ids, index_of));
  }
  for (const auto& [network, ids] : service.overrides.networks) {
    spec.network_overrides.emplace_back(network, indices(ids, index_of));
  }
  for (const auto& [asn, ids] : service.overrides.asns) {
    spec.asn_overrides.emplace_back(asn, indices(ids, index_of));
  }
  spec.spread_km = service.spread_km;
  spec.failover_km = service.failover_km;
  spec.failover_ttl = std::min(service.failover_ttl, service.ttl);
  return spec;
}

// Steering by AS needs an ASN database: without one every `asns:` would silently
// never match.
void check_asn_data(const zones::Config& config, const steering::GeoIp* geoip,
                    std::vector<ConfigError>& errors) {
  if (geoip != nullptr && geoip->has_asn_data()) return;
  const char* hint = "add an ASN database (GeoLite2-ASN, or the demo's data/asn.mmdb) to geoip.databases";
  for (const auto& mirror : config.mirrors) {
    if (!mirror.asns.empty()) {
      errors.push_back({mirror.pos, "mirror " + mirror.id + " lists asns:, but no GeoIP database holds ASN data", hint});
    }
  }
  for (const zones::Service* service : zones::service_order(config)) {
    if (!service->overrides.asns.empty()) {
      errors.push_back({service->pos, "service " + service->name + " has overrides.asns, but no GeoIP database holds ASN data", hint});
    }
  }
}

std::string describe_map(const steering::SteeringMap& map, std::chrono::steady_clock::duration took) {
  steering::MapFigures all;
  for (const auto& service : map.maps) all += service.figures();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  return "steering map of " + std::to_string(map.services.size()) + " services compiled in " +
         std::to_string(ms) + " ms: " + std::to_string(all.ranges) + " ranges (" +
         std::to_string(all.coarse_ranges) + " by their first places), " +
         std::to_string(all.rankings) + " rankings, " + std::to_string(all.bytes / 1024) + " KiB";
}

// The GeoIP walk and the rankings: the slow part of a load. A reload does it on a
// thread of its own while the query threads serve the previous snapshot.
std::shared_ptr<const steering::SteeringMap> compile_steering(const LoadedConfig& loaded,
                                                              std::chrono::nanoseconds& took,
                                                              std::vector<ConfigError>& errors) {
  const zones::Config& config = loaded.config;
  auto started = std::chrono::steady_clock::now();
  try {
    auto map = steering::SteeringMap::compile(loaded.mirrors, loaded.services, loaded.geoip);
    took = std::chrono::steady_clock::now() - started;
    log::info(describe_map(*map, took));
    return map;
  } catch (const steering::GeoIpError& e) {
    const auto& positions = config.geoip.positions;
    zones::SourcePos pos = e.database_index < positions.size() ? positions[e.database_index]
                                                               : zones::SourcePos{config.path};
    errors.push_back({pos, e.what(), "the file is damaged: fetch it again"});
  } catch (const std::invalid_argument& e) {
    errors.push_back({zones::SourcePos{config.path}, e.what(), ""});
  }
  return nullptr;
}

}  // namespace

std::shared_ptr<const LoadedConfig> load_config(const std::string& path, uint64_t generation) {
  auto loaded = std::make_shared<LoadedConfig>();
  loaded->config = zones::parse_config(path);
  loaded->generation = generation;
  const zones::Config& config = loaded->config;
  std::vector<ConfigError> errors;

  try {
    loaded->zones = zones::compile_zones(config);
  } catch (const ConfigErrors& e) {
    errors.insert(errors.end(), e.errors().begin(), e.errors().end());
  }

  loaded->geoip = open_geoip(config, errors);
  std::unordered_map<std::string, uint16_t> index_of;
  for (const auto& m : config.mirrors) {
    auto location = locate_mirror(m, loaded->geoip.get(), errors);
    index_of.emplace(m.id, static_cast<uint16_t>(loaded->mirrors.size()));
    loaded->mirrors.push_back({m.id, location.value_or(steering::Coordinates{}), m.ipv4, m.ipv6,
                               m.drain, m.networks, m.asns, m.weight});
  }
  check_asn_data(config, loaded->geoip.get(), errors);
  if (!errors.empty()) throw ConfigErrors(std::move(errors));

  for (const zones::Service* service : zones::service_order(config)) {
    loaded->services.push_back(service_spec(*service, index_of));
  }
  loaded->steering = compile_steering(*loaded, loaded->steering_build_time, errors);
  if (!errors.empty()) throw ConfigErrors(std::move(errors));
  loaded->limiter = std::make_shared<ratelimit::Limiter>(config.server.rate_limit);
  return loaded;
}

std::shared_ptr<const Snapshot> build_snapshot(std::shared_ptr<const LoadedConfig> loaded,
                                               std::shared_ptr<const healthcheck::HealthState> health,
                                               metrics::QueryMetrics* metrics,
                                               const std::set<std::string>& drained) {
  if (!health) {
    health = std::make_shared<healthcheck::HealthState>(
        healthcheck::HealthState::all_up(loaded->mirrors.size()));
  }
  std::vector<bool> drained_by_index;
  if (!drained.empty()) {
    drained_by_index.resize(loaded->config.mirrors.size(), false);
    for (size_t i = 0; i < loaded->config.mirrors.size(); ++i) {
      drained_by_index[i] = drained.count(loaded->config.mirrors[i].id) != 0;
    }
  }
  return std::make_shared<const Snapshot>(std::move(loaded), std::move(health), metrics,
                                          std::move(drained_by_index));
}

std::vector<healthcheck::Target> probe_targets(const zones::Config& config) {
  std::vector<healthcheck::Target> targets;
  for (size_t i = 0; i < config.mirrors.size(); ++i) {
    const auto& m = config.mirrors[i];
    for (const auto* addresses : {&m.ipv4, &m.ipv6}) {
      for (const IpAddress& address : *addresses) {
        targets.push_back({m.id, m.url, address, m.service_host, m.probe, i});
      }
    }
  }
  return targets;
}

}  // namespace geosteer::app
