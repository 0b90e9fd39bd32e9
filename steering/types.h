// The vocabulary of steering: mirrors, services, clients and why a mirror was chosen.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "steering/geoip.h"

namespace geosteer::steering {

struct Mirror {
  std::string id;
  Coordinates location;
  std::vector<IpAddress> ipv4, ipv6;
  bool drain = false;
  // The mirror's home: clients inside these networks or ASes get it before any other
  // mirror, after the service's network and ASN overrides (a micro mirror serves its
  // own ISP first).
  std::vector<IpPrefix> networks;
  std::vector<uint32_t> asns;
  // Capacity: mirrors within a service's spread_km share clients in proportion to
  // it; 0 is answered only when no other candidate is left.
  uint32_t weight = 100;

  const std::vector<IpAddress>& addresses(Family family) const {
    return family == Family::V4 ? ipv4 : ipv6;
  }
};

struct ServiceSpec {
  std::string name;                  // fully qualified, for messages
  std::vector<uint16_t> mirrors;     // indices into the engine's mirrors, config order
  unsigned answers = 2;
  uint32_t ttl = 60;
  std::vector<uint16_t> fallback;    // indices
  std::vector<std::pair<std::string, std::vector<uint16_t>>> country_overrides;
  std::vector<std::pair<std::string, std::vector<uint16_t>>> continent_overrides;
  std::vector<std::pair<IpPrefix, std::vector<uint16_t>>> network_overrides;
  std::vector<std::pair<uint32_t, std::vector<uint16_t>>> asn_overrides;
  // Mirrors no farther than the nearest plus this share its clients by weight; 0: off.
  double spread_km = 0;
  // Second and later answers only from mirrors no farther than the first-ranked
  // one plus this (0: any distance); a client with fewer in range gets fewer
  // answers, with failover_ttl, so that it asks again soon instead of failing over
  // to a distant mirror.
  double failover_km = 0;
  uint32_t failover_ttl = 30;
};

// The client as the DNS layer saw it.
struct Client {
  IpAddress address;       // ECS address (already truncated to its source prefix) or resolver
  uint8_t source_prefix;   // ECS SOURCE PREFIX-LENGTH, or the full length for a resolver address
  bool from_ecs = false;
};

enum class Reason : uint8_t {
  NetworkOverride,
  AsnOverride,
  HomeNetwork,  // inside one of the mirror's networks
  HomeAsn,      // in one of the mirror's ASes
  CountryOverride,
  ContinentOverride,
  Distance,
  Fallback,     // client without location: the service's fallback mirrors
  ConfigOrder,  // client without location and no fallback: first candidates
  NoCandidate,  // no mirror has an address of the family
};
const char* to_string(Reason r);

// Which of the service's mirrors were candidates, given their health. Each tier is
// used only when the ones above it have no mirror of the family.
enum class Tier {
  Healthy,   // the mirrors that are up
  Stale,     // none is up: the stale ones, better out of date than nothing
  Fallback,  // none is up or stale: the fallback mirrors that answer at all (slow ones)
  FailOpen,  // none of those either: every mirror, whatever its health
};
const char* to_string(Tier t);

constexpr size_t kMaxAnswerMirrors = 16;

// Great-circle distance in kilometres (haversine on a spherical Earth).
double distance_km(Coordinates a, Coordinates b);

}  // namespace geosteer::steering
