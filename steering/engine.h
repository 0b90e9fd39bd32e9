// Turns (service, client address, address family) into the mirrors to answer with.
// Knows geography and mirror health; knows nothing of DNS wire format or sockets.
// An Engine is immutable once built and shared by every query thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/ip.h"
#include "healthcheck/state.h"
#include "steering/geoip.h"

namespace geosteer::steering {

struct Mirror {
  std::string id;
  Coordinates location;
  std::vector<IpAddress> ipv4, ipv6;
  bool drain = false;
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
};

// The client as the DNS layer saw it.
struct Client {
  IpAddress address;       // ECS address (already truncated to its source prefix) or resolver
  uint8_t source_prefix;   // ECS SOURCE PREFIX-LENGTH, or the full length for a resolver address
  bool from_ecs = false;
};

enum class Reason {
  NetworkOverride,
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

struct Decision {
  std::array<uint16_t, kMaxAnswerMirrors> mirrors{};  // chosen, best first
  uint8_t count = 0;
  // ECS SCOPE PREFIX-LENGTH: how much of the client address decided the answer.
  uint8_t scope_prefix = 0;
  Reason reason = Reason::NoCandidate;  // what decided the first mirror
  // Healthy also when no mirror has an address of the family: health played no part.
  Tier tier = Tier::Healthy;
  GeoResult geo;                        // where the client was found

  std::span<const uint16_t> chosen() const { return {mirrors.data(), count}; }
};

class Engine {
 public:
  Engine(std::vector<Mirror> mirrors, std::vector<ServiceSpec> services,
         std::shared_ptr<const GeoIp> geoip,
         std::shared_ptr<const healthcheck::HealthState> health);

  // Allocation-free: the per-family candidate lists are prepared at construction.
  Decision choose(size_t service, Family family, const Client& client) const;

  // A mirror's verdict for a family: that of its best address (each address is
  // judged on its own), up when it has none.
  healthcheck::Verdict verdict(size_t mirror, Family family) const {
    return views_[mirror][family == Family::V4 ? 0 : 1].verdict;
  }
  // The addresses a chosen mirror is answered with: those of the family that share
  // its best verdict, so an address that is down leaves the answers while the
  // others serve. Allocation-free.
  std::span<const IpAddress> answer_addresses(size_t mirror, Family family) const {
    return views_[mirror][family == Family::V4 ? 0 : 1].answer;
  }

  const std::vector<Mirror>& mirrors() const { return mirrors_; }
  const std::vector<ServiceSpec>& services() const { return services_; }
  const GeoIp* geoip() const { return geoip_.get(); }
  const healthcheck::HealthState& health() const { return *health_; }

  // Great-circle distance in kilometres (haversine on a spherical Earth).
  static double distance_km(Coordinates a, Coordinates b);

 private:
  std::vector<Mirror> mirrors_;
  std::vector<ServiceSpec> services_;
  std::shared_ptr<const GeoIp> geoip_;
  std::shared_ptr<const healthcheck::HealthState> health_;
  // The mirrors that may be answered and the tier they come from; the health is
  // fixed for the engine's lifetime, so they are computed once at construction.
  struct Pool {
    std::vector<uint16_t> candidates;  // config order
    Tier tier = Tier::Healthy;
  };
  // Per service, per family (IPv4, IPv6).
  std::vector<std::array<Pool, 2>> pools_;
  // Per mirror and family: the verdict of its best address and the addresses with it.
  struct FamilyView {
    healthcheck::Verdict verdict = healthcheck::Verdict::Up;
    std::vector<IpAddress> answer;
  };
  std::vector<std::array<FamilyView, 2>> views_;

  static FamilyView view_of(size_t index, const std::vector<IpAddress>& addresses,
                            const healthcheck::HealthState& health);
  Pool pool_for(const ServiceSpec& service, Family family) const;
};

}  // namespace geosteer::steering
