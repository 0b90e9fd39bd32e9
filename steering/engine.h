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
#include "steering/steering_map.h"
#include "steering/types.h"

namespace geosteer::steering {

struct Decision {
  std::array<uint16_t, kMaxAnswerMirrors> mirrors{};  // chosen, best first
  uint8_t count = 0;
  // ECS SCOPE PREFIX-LENGTH: how much of the client address decided the answer.
  uint8_t scope_prefix = 0;
  Reason reason = Reason::NoCandidate;  // what decided the first mirror
  // Healthy also when no mirror has an address of the family: health played no part.
  Tier tier = Tier::Healthy;
  // The weighted spread ordered the first answers (service spread_km), by a hash of
  // the client's /20 (IPv4) or /40 (IPv6).
  bool spread = false;
  // Fewer mirrors than `answers`, because no more were within failover_km: the
  // answer is given with the service's failover_ttl.
  bool short_of_failover = false;

  std::span<const uint16_t> chosen() const { return {mirrors.data(), count}; }
};

class Engine {
 public:
  // The steering map is compiled at load and shared by every engine built on it: a
  // health change makes a new engine, never a new map.
  // `drained` (by mirror index; shorter or empty: none) takes mirrors out of every
  // answer at run time, as `drain: true` does at load: `geosteer ctl drain`. Like
  // health, it needs no new map.
  Engine(std::shared_ptr<const SteeringMap> map,
         std::shared_ptr<const healthcheck::HealthState> health,
         std::vector<bool> drained = {});
  // Compiles the map first (for commands and tests that steer once).
  Engine(std::vector<Mirror> mirrors, std::vector<ServiceSpec> services,
         std::shared_ptr<const GeoIp> geoip,
         std::shared_ptr<const healthcheck::HealthState> health,
         std::vector<bool> drained = {});

  // Allocation-free: one range lookup in the map, then a walk of its ranking.
  Decision choose(size_t service, Family family, const Client& client) const;

  // Where GeoIP puts an address, for explanations; not on the answer path.
  GeoResult locate(const IpAddress& address) const;

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

  const std::vector<Mirror>& mirrors() const { return map_->mirrors; }
  const std::vector<ServiceSpec>& services() const { return map_->services; }
  const GeoIp* geoip() const { return map_->geoip.get(); }
  const SteeringMap& map() const { return *map_; }
  const healthcheck::HealthState& health() const { return *health_; }
  // The tier a service's answers of a family come from in this health state.
  Tier tier(size_t service, Family family) const {
    return pools_[service][family == Family::V4 ? 0 : 1].tier;
  }
  // Drained by the configuration or at run time: probed, never answered.
  bool drained(size_t mirror) const {
    return map_->mirrors[mirror].drain || (mirror < drained_.size() && drained_[mirror]);
  }

  // Great-circle distance in kilometres (haversine on a spherical Earth).
  static double distance_km(Coordinates a, Coordinates b) { return steering::distance_km(a, b); }

 private:
  std::shared_ptr<const SteeringMap> map_;
  std::shared_ptr<const healthcheck::HealthState> health_;
  std::vector<bool> drained_;  // at run time, by mirror index
  // The mirrors that may be answered and the tier they come from; the health is
  // fixed for the engine's lifetime, so they are computed once at construction.
  struct Pool {
    std::vector<bool> member;  // by mirror index
    bool empty = true;
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
  unsigned spread_order(std::span<const RankedMirror> group, const Pool& pool, const IpAddress& address,
                        unsigned answers, Decision& decision) const;
};

}  // namespace geosteer::steering
