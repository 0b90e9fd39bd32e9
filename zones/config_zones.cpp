// The zones: section: origins, SOA, NS, records and the services with their overrides.
#include "zones/config_parser.h"

#include <cctype>

#include "common/countries.h"
#include "common/dname.h"

namespace geosteer::zones::parsing {

// --- zones ---------------------------------------------------------------------

void ConfigParser::parse_zones(const YAML::Node& node, std::vector<ZoneConfig>& zones) {
  if (!expect(node, YAML::NodeType::Sequence, "'zones'")) return;
  if (node.size() == 0) error(node, "'zones' must list at least one zone");
  for (const auto& item : node) {
    ZoneConfig zone;
    zone.pos = pos(item);
    parse_zone(item, zone);
    zones.push_back(std::move(zone));
  }
}

void ConfigParser::parse_zone(const YAML::Node& node, ZoneConfig& zone) {
  auto f = fields(node, "zone",
                  {"origin", "ttl", "soa", "ns", "records", "zonefile", "services"});
  if (!f) return;
  const Entry* origin = required(*f, "origin", "zone");
  if (!origin) return;  // everything else in a zone is relative to it
  const std::string root(1, '\0');
  auto origin_wire = name_wire(origin->value, "origin", root);
  if (!origin_wire) return;
  zone.origin = dname::to_text(*origin_wire);
  auto first = std::find_if(origins_.begin(), origins_.end(),
                            [&](const auto& known) { return known.first == zone.origin; });
  if (first != origins_.end()) {
    error(origin->value, "duplicate zone " + quoted(zone.origin),
          "first defined at " + first->second.str());
  } else {
    origins_.emplace_back(zone.origin, pos(origin->value));
  }
  set_integer(*f, "ttl", 0, kMaxTtl, zone.ttl);
  if (const Entry* e = required(*f, "soa", "zone")) parse_soa(e->value, *origin_wire, zone.soa);
  if (const Entry* e = required(*f, "ns", "zone")) parse_ns(e->value, *origin_wire, zone);
  if (const Entry* e = f->find("records")) parse_records(e->value, zone);
  if (const Entry* e = f->find("zonefile")) {
    zone.zonefile = scalar(e->value, "'zonefile'");
    zone.zonefile_pos = pos(e->key_node);
  }
  const Entry* services = f->find("services");
  if (!services || !expect(services->value, YAML::NodeType::Sequence, "'services'")) return;
  for (const auto& item : services->value) {
    Service service;
    service.pos = pos(item);
    HealthcheckBlock health;
    parse_service(item, *origin_wire, service, health);
    std::string host = service.fqdn.empty() ? "" : service.fqdn.substr(0, service.fqdn.size() - 1);
    SourcePos health_pos = service.pos;
    const YAML::Node& fields_node = item;
    if (fields_node.IsMap() && fields_node["healthcheck"]) health_pos = pos(fields_node["healthcheck"]);
    service_health_.push_back(
        {service.mirrors, std::move(host), service.name, health_pos, std::move(health)});
    zone.services.push_back(std::move(service));
  }
}

void ConfigParser::parse_soa(const YAML::Node& node, const std::string& origin_wire, Soa& soa) {
  auto f = fields(node, "soa",
                  {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum"});
  if (!f) return;
  if (const Entry* e = required(*f, "mname", "soa")) {
    if (auto wire = name_wire(e->value, "mname", origin_wire)) soa.mname = dname::to_text(*wire);
  }
  if (const Entry* e = required(*f, "rname", "soa")) {
    if (auto wire = name_wire(e->value, "rname", origin_wire)) soa.rname = dname::to_text(*wire);
  }
  set_integer(*f, "serial", 0, UINT32_MAX, soa.serial);
  set_integer(*f, "refresh", 0, UINT32_MAX, soa.refresh);
  set_integer(*f, "retry", 0, UINT32_MAX, soa.retry);
  set_integer(*f, "expire", 0, UINT32_MAX, soa.expire);
  set_integer(*f, "minimum", 0, UINT32_MAX, soa.minimum);
}

void ConfigParser::parse_ns(const YAML::Node& node, const std::string& origin_wire,
                            ZoneConfig& zone) {
  if (!expect(node, YAML::NodeType::Sequence, "'ns'")) return;
  if (node.size() == 0) error(node, "'ns' must name at least one name server");
  for (const auto& item : node) {
    if (auto wire = name_wire(item, "name server", origin_wire)) {
      zone.ns.push_back(dname::to_text(*wire));
    }
  }
}

void ConfigParser::parse_records(const YAML::Node& node, ZoneConfig& zone) {
  if (!expect(node, YAML::NodeType::Sequence, "'records'")) return;
  for (const auto& item : node) {
    if (auto text = scalar(item, "a record")) zone.records.push_back({*text, pos(item)});
  }
}

// --- services ------------------------------------------------------------------

void ConfigParser::parse_service(const YAML::Node& node, const std::string& origin_wire,
                                 Service& service, HealthcheckBlock& health) {
  auto f = fields(node, "service",
                  {"name", "mirrors", "answers", "ttl", "fallback", "overrides", "spread_km",
                   "failover_km", "failover_ttl", "healthcheck"});
  if (!f) return;
  if (const Entry* e = required(*f, "name", "service")) {
    parse_service_name(e->value, origin_wire, service);
  }
  if (const Entry* e = required(*f, "mirrors", "service")) {
    service.mirrors = parse_ids(e->value, "'mirrors'", nullptr);
    if (e->value.IsSequence() && e->value.size() == 0) {
      error(e->value, "'mirrors' must list at least one mirror");
    }
    // The steering engine ranks a service's mirrors in a fixed array on the query path.
    if (e->value.IsSequence() && e->value.size() > kMaxServiceMirrors) {
      error(e->value, "'mirrors' lists " + std::to_string(e->value.size()) + " mirrors",
            "a service may list at most " + std::to_string(kMaxServiceMirrors) +
                "; split it into several services");
    }
  }
  set_integer(*f, "answers", 1, 16, service.answers);
  set_integer(*f, "ttl", 0, kMaxTtl, service.ttl);
  if (const Entry* e = f->find("fallback")) {
    service.fallback = parse_ids(e->value, "'fallback'", &service);
  }
  if (const Entry* e = f->find("overrides")) parse_overrides(e->value, service);
  // Half the Earth's circumference is as far as two places can be.
  constexpr double kMaxKm = 20038;
  if (const Entry* e = f->find("spread_km")) service.spread_km = real(e->value, "'spread_km'", 0, kMaxKm).value_or(0);
  if (const Entry* e = f->find("failover_km")) service.failover_km = real(e->value, "'failover_km'", 0, kMaxKm).value_or(0);
  set_integer(*f, "failover_ttl", 0, kMaxTtl, service.failover_ttl);
  // The mirrors that share a client all come first, however far apart: a spread
  // wider than the failover range would hand out what failover_km rules out.
  if (service.failover_km > 0 && service.spread_km > service.failover_km) {
    error(f->find("spread_km")->value, "spread_km is larger than failover_km",
          "keep spread_km at most failover_km");
  }
  if (const Entry* e = f->find("healthcheck")) health = parse_healthcheck(e->value, nullptr);
}

void ConfigParser::parse_service_name(const YAML::Node& node, const std::string& origin_wire,
                                      Service& service) {
  auto wire = name_wire(node, "service name", origin_wire);
  if (!wire) return;
  service.name = node.Scalar();
  if (!dname::is_subdomain(*wire, origin_wire)) {
    error(node, "service " + quoted(service.name) + " is outside its zone " +
                    quoted(dname::to_text(origin_wire)),
          "write the name relative to the origin, without a trailing dot");
    return;
  }
  service.fqdn = dname::to_text(*wire);
  auto first = std::find_if(service_names_.begin(), service_names_.end(),
                            [&](const auto& known) { return known.first == service.fqdn; });
  if (first != service_names_.end()) {
    error(node, "duplicate service " + quoted(service.fqdn),
          "first defined at " + first->second.str());
    return;
  }
  service_names_.emplace_back(service.fqdn, pos(node));
}

// Mirror ids of a service list; with `within`, each must also be one of that service's mirrors.
std::vector<std::string> ConfigParser::parse_ids(const YAML::Node& node, std::string_view what,
                                                 const Service* within) {
  std::vector<std::string> ids;
  if (!expect(node, YAML::NodeType::Sequence, what)) return ids;
  std::vector<std::string> known;
  for (const auto& [id, position] : mirror_ids_) known.push_back(id);
  for (const auto& item : node) {
    auto id = scalar(item, "a mirror id");
    if (!id) continue;
    if (std::find(known.begin(), known.end(), *id) == known.end()) {
      auto suggestion = closest(*id, known);
      error(item, "unknown mirror " + quoted(*id) + " in " + std::string(what),
            suggestion ? "did you mean " + quoted(*suggestion) + "?"
                       : "define it under mirrors:");
    } else if (within && std::find(within->mirrors.begin(), within->mirrors.end(), *id) ==
                             within->mirrors.end()) {
      error(item, "mirror " + quoted(*id) + " in " + std::string(what) +
                      " is not one of the service's mirrors",
            "add it to mirrors:");
    } else if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
      error(item, "mirror " + quoted(*id) + " is listed twice in " + std::string(what));
    } else {
      ids.push_back(*id);
    }
  }
  return ids;
}

void ConfigParser::parse_overrides(const YAML::Node& node, Service& service) {
  auto f = fields(node, "overrides", {"countries", "continents", "networks", "asns"});
  if (!f) return;
  if (const Entry* e = f->find("asns")) parse_asn_overrides(e->value, service);
  if (const Entry* e = f->find("countries")) parse_country_overrides(e->value, service);
  if (const Entry* e = f->find("continents")) parse_continent_overrides(e->value, service);
  if (const Entry* e = f->find("networks")) parse_network_overrides(e->value, service);
}

static std::string uppercased(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void ConfigParser::parse_country_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'countries'");
  if (!all) return;
  for (const auto& e : *all) {
    bool well_formed = e.key.size() == 2 && std::isupper(static_cast<unsigned char>(e.key[0])) &&
                       std::isupper(static_cast<unsigned char>(e.key[1]));
    if (!well_formed) {
      bool letters = e.key.size() == 2 && std::isalpha(static_cast<unsigned char>(e.key[0])) &&
                     std::isalpha(static_cast<unsigned char>(e.key[1]));
      error(e.key_node, "invalid country code " + quoted(e.key),
            letters ? "did you mean " + quoted(uppercased(e.key)) + "?"
                    : "use ISO 3166-1 alpha-2 codes such as DE or BR");
      continue;
    }
    // GeoIP only ever reports ISO codes: an override for any other (UK is the
    // classic) would silently never match.
    if (!is_known_country(e.key.c_str())) {
      error(e.key_node, "unknown country code " + quoted(e.key),
            e.key == "UK" ? "the United Kingdom is \"GB\" in ISO 3166-1"
                          : "use ISO 3166-1 alpha-2 codes such as DE or BR");
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    service.overrides.countries[e.key] = std::move(ids);
  }
}

void ConfigParser::parse_continent_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'continents'");
  if (!all) return;
  for (const auto& e : *all) {
    if (std::find(kContinents.begin(), kContinents.end(), e.key) == kContinents.end()) {
      std::string upper = uppercased(e.key);
      bool case_only =
          std::find(kContinents.begin(), kContinents.end(), upper) != kContinents.end();
      error(e.key_node, "invalid continent code " + quoted(e.key),
            case_only ? "did you mean " + quoted(upper) + "?"
                      : "one of " + join(kContinents));
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    service.overrides.continents[e.key] = std::move(ids);
  }
}

void ConfigParser::parse_network_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'networks'");
  if (!all) return;
  for (const auto& e : *all) {
    auto prefix = network(e.key_node, e.key);
    if (!prefix) continue;
    // The keys differ as text ("2001:DB8::/32", "2001:db8::/32") but not as networks:
    // only one of them could ever be used.
    auto& networks = service.overrides.networks;
    auto same = std::find_if(networks.begin(), networks.end(),
                             [&](const auto& n) { return n.first == *prefix; });
    if (same != networks.end()) {
      error(e.key_node, "network " + quoted(e.key) + " is listed twice in 'networks'",
            "merge its mirrors into the entry for " + same->first.to_string());
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    networks.emplace_back(*prefix, std::move(ids));
  }
}

void ConfigParser::parse_asn_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'asns'");
  if (!all) return;
  for (const auto& e : *all) {
    auto number = asn(e.key_node, "'asns'");
    if (!number) continue;
    // 6939 and AS6939 are the same AS.
    auto& asns = service.overrides.asns;
    if (std::any_of(asns.begin(), asns.end(), [&](const auto& a) { return a.first == *number; })) {
      error(e.key_node, "AS" + std::to_string(*number) + " is listed twice in 'asns'",
            "merge its mirrors into one entry");
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    if (e.value.IsSequence() && e.value.size() == 0) {
      error(e.value, "the override for " + e.key + " lists no mirror", "name its mirrors or remove it");
      continue;
    }
    asns.emplace_back(*number, std::move(ids));
  }
}


}  // namespace geosteer::zones::parsing
