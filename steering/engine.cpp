#include "steering/engine.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "common/limits.h"

namespace geosteer::steering {
namespace {

size_t family_slot(Family family) { return family == Family::V4 ? 0 : 1; }

// ::ffff:a.b.c.d, the IPv4 address in an IPv6 socket's or option's clothes.
bool ipv4_mapped(const IpAddress& a) {
  if (a.family != Family::V6) return false;
  for (int i = 0; i < 10; ++i) {
    if (a.bytes[i] != 0) return false;
  }
  return a.bytes[10] == 0xFF && a.bytes[11] == 0xFF;
}

constexpr unsigned kMappedPrefixBits = 96;

bool contains(std::span<const uint16_t> list, uint16_t mirror) {
  return std::find(list.begin(), list.end(), mirror) != list.end();
}

// The service's mirrors that could answer for the family at all: not drained (a
// drained mirror is probed but never answered, not even to fail open) and with an
// address of the family.
template <typename Drained>
std::vector<uint16_t> answerable(const ServiceSpec& service, Family family,
                                 const std::vector<Mirror>& mirrors, Drained drained) {
  std::vector<uint16_t> out;
  for (uint16_t index : service.mirrors) {
    const Mirror& mirror = mirrors[index];
    if (drained(index) || mirror.addresses(family).empty() || contains(out, index)) continue;
    out.push_back(index);
  }
  return out;
}

template <typename Keep>
std::vector<uint16_t> only(const std::vector<uint16_t>& mirrors, Keep keep) {
  std::vector<uint16_t> out;
  std::copy_if(mirrors.begin(), mirrors.end(), std::back_inserter(out), keep);
  return out;
}

}  // namespace

const char* to_string(Reason r) {
  switch (r) {
    case Reason::NetworkOverride: return "network-override";
    case Reason::AsnOverride: return "asn-override";
    case Reason::HomeNetwork: return "home-network";
    case Reason::HomeAsn: return "home-asn";
    case Reason::CountryOverride: return "country-override";
    case Reason::ContinentOverride: return "continent-override";
    case Reason::Distance: return "distance";
    case Reason::Fallback: return "fallback";
    case Reason::ConfigOrder: return "config-order";
    case Reason::NoCandidate: return "no-candidate";
  }
  return "unknown";
}

const char* to_string(Tier t) {
  switch (t) {
    case Tier::Healthy: return "healthy";
    case Tier::Stale: return "stale";
    case Tier::Fallback: return "fallback";
    case Tier::FailOpen: return "fail-open";
  }
  return "unknown";
}

Engine::Engine(std::vector<Mirror> mirrors, std::vector<ServiceSpec> services,
               std::shared_ptr<const GeoIp> geoip,
               std::shared_ptr<const healthcheck::HealthState> health, std::vector<bool> drained)
    : Engine(SteeringMap::compile(std::move(mirrors), std::move(services), std::move(geoip)),
             std::move(health), std::move(drained)) {}

Engine::Engine(std::shared_ptr<const SteeringMap> map,
               std::shared_ptr<const healthcheck::HealthState> health, std::vector<bool> drained)
    : map_(std::move(map)),
      health_(health ? std::move(health)
                     : std::make_shared<const healthcheck::HealthState>(
                           healthcheck::HealthState::all_up(map_->mirrors.size()))),
      drained_(std::move(drained)) {
  const std::vector<Mirror>& all = map_->mirrors;
  views_.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    views_.push_back({view_of(i, all[i].ipv4, *health_), view_of(i, all[i].ipv6, *health_)});
  }
  pools_.reserve(map_->services.size());
  for (const ServiceSpec& service : map_->services) {
    pools_.push_back({pool_for(service, Family::V4), pool_for(service, Family::V6)});
  }
}

Engine::FamilyView Engine::view_of(size_t index, const std::vector<IpAddress>& addresses,
                                   const healthcheck::HealthState& health) {
  FamilyView view;
  if (addresses.empty()) return view;
  view.verdict = healthcheck::Verdict::Down;
  for (const IpAddress& address : addresses) {
    view.verdict = std::min(view.verdict, health.verdict(index, address));
  }
  for (const IpAddress& address : addresses) {
    if (health.verdict(index, address) == view.verdict) view.answer.push_back(address);
  }
  return view;
}

// The first tier that has a mirror: healthy ones, else stale ones, else the fallback
// mirrors that still answer, else every answerable mirror (fail open: a possibly
// broken mirror serves clients better than no answer at all).
Engine::Pool Engine::pool_for(const ServiceSpec& service, Family family) const {
  using healthcheck::Verdict;
  std::vector<uint16_t> all =
      answerable(service, family, map_->mirrors, [this](uint16_t m) { return drained(m); });
  auto with_verdict = [&](Verdict verdict) {
    return [this, family, verdict](uint16_t m) { return this->verdict(m, family) == verdict; };
  };
  auto pool = [&](const std::vector<uint16_t>& members, Tier tier) {
    Pool p{std::vector<bool>(map_->mirrors.size(), false), members.empty(), tier};
    for (uint16_t m : members) p.member[m] = true;
    return p;
  };
  if (auto up = only(all, with_verdict(Verdict::Up)); !up.empty()) return pool(up, Tier::Healthy);
  if (auto stale = only(all, with_verdict(Verdict::Stale)); !stale.empty()) {
    return pool(stale, Tier::Stale);
  }
  // Nothing is up or stale here, so the fallback mirrors that still answer are slow
  // (a flapping mirror stays out until it holds still, as a down one does).
  auto fallback = only(all, [&](uint16_t m) {
    return contains(service.fallback, m) && verdict(m, family) == Verdict::Slow;
  });
  if (!fallback.empty()) return pool(fallback, Tier::Fallback);
  // Healthy when there is no mirror of the family at all: health decided nothing.
  return pool(all, all.empty() ? Tier::Healthy : Tier::FailOpen);
}

// The network that shares one draw of the weighted spread: a /20 (IPv4) or /40
// (IPv6) gives thousands of draws in a metropolitan area, so the shares follow the
// weights, while a resolver still caches one answer for many clients. An answer
// that the draw decided has a scope no wider than this, so every address in its scope
// draws alike; and the draw does not depend on the scope, so a network keeps its
// mirror while health changes elsewhere in the ranking.
constexpr unsigned kSpreadBitsV4 = 20;
constexpr unsigned kSpreadBitsV6 = 40;

unsigned spread_bits(Family family) { return family == Family::V4 ? kSpreadBitsV4 : kSpreadBitsV6; }

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9;
  x ^= x >> 27;
  x *= 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// A number in (0, 1] from 64 hashed bits.
double unit_interval(uint64_t bits) { return static_cast<double>((bits >> 11) + 1) * 0x1p-53; }

// The ranking holds every answerable mirror, so skipping those outside the tier gives
// the same order as ranking the tier alone. The scope: when the answer came from the
// ranking's head (its first places, FamilyMap::head_length), every address of the
// coarse range shares them and gets this answer; past them (the first mirrors are not
// in the tier), only the fine range (the same full ranking) does.
//
// The spread mirrors at the head share the first places by weight: which ones of
// them may answer is the same for the whole scope, and their order is drawn from a
// hash of the client's /20 (/40), so every address in the scope gets the same answer
// and each network keeps its mirror from query to query. After the first answer,
// with failover_km, only the places near enough to the one answered first follow.
Decision Engine::choose(size_t service_index, Family family, const Client& client) const {
  Decision decision;
  const ServiceSpec& service = map_->services.at(service_index);
  const Pool& pool = pools_[service_index][family_slot(family)];
  decision.tier = pool.tier;
  if (pool.empty) return decision;  // NoCandidate, and no part of the address mattered

  // An IPv4-mapped client (a resolver may send ECS ::ffff:8.8.8.8/128) is steered as
  // its IPv4 address, and its scope covers the mapped IPv4 network: the IPv6 map
  // leaves the IPv4 subtree out.
  IpAddress address = client.address;
  unsigned scope_offset = 0;
  if (ipv4_mapped(address)) {
    address = IpAddress::v4({address.bytes[12], address.bytes[13], address.bytes[14], address.bytes[15]});
    scope_offset = kMappedPrefixBits;
  }
  const FamilyMap& map = map_->maps[service_index].find(address.family, family);
  FamilyMap::Hit hit = map.find(address);
  std::span<const RankedMirror> ranking = hit.ranking;

  size_t group = 0;  // the spread mirrors at the head
  while (group < ranking.size() && ranking[group].spread()) ++group;
  // Those of them in the tier answer first, in the order of the draw.
  unsigned spread_answers = spread_order(ranking.first(group), pool, address, service.answers, decision);
  size_t first_place = group;  // of the first answer; the draw's first is in the group
  for (size_t i = 0; i < group && decision.count > 0; ++i) {
    if (ranking[i].mirror == decision.mirrors[0]) first_place = i;
  }
  if (decision.count > 0) decision.reason = ranking[first_place].reason;
  size_t places_used = group;
  bool failover_range = service.failover_km > 0;
  for (size_t i = group; i < ranking.size() && decision.count < service.answers; ++i) {
    ++places_used;
    const RankedMirror& ranked = ranking[i];
    if (!pool.member[ranked.mirror]) continue;
    if (decision.count == 0) {
      decision.reason = ranked.reason;
      first_place = i;
    } else if (failover_range && !ranking[first_place].near_enough(i)) {
      decision.short_of_failover = true;
      continue;
    }
    decision.mirrors[decision.count++] = ranked.mirror;
  }
  if (decision.count == service.answers) decision.short_of_failover = false;

  unsigned scope = places_used <= map.head_length(ranking) ? hit.coarse_scope : hit.fine_scope;
  if (spread_answers > 1) {
    decision.spread = true;
    scope = std::max(scope, spread_bits(address.family));
  }
  decision.scope_prefix = static_cast<uint8_t>(scope + scope_offset);
  return decision;
}

// The spread mirrors in the tier, ordered by a weighted draw (Efraimidis and
// Spirakis: each draws u^(1/weight) and the largest comes first, so a mirror comes
// first in proportion to its weight) seeded by the client's /20 (/40). The first
// `answers` of them go into the decision. Returns how many of the group are in the
// tier.
unsigned Engine::spread_order(std::span<const RankedMirror> group, const Pool& pool,
                              const IpAddress& address, unsigned answers, Decision& decision) const {
  IpAddress network = address.masked(spread_bits(address.family));
  uint64_t high = 0, low = 0;
  for (size_t i = 0; i < 8; ++i) high = high << 8 | network.bytes[i];
  for (size_t i = 8; i < 16; ++i) low = low << 8 | network.bytes[i];
  uint64_t seed = mix(high ^ mix(low));
  struct Draw {
    double key;
    uint16_t mirror;
  };
  std::array<Draw, kMaxServiceMirrors> draws;
  size_t n = 0;
  for (const RankedMirror& ranked : group) {
    if (!pool.member[ranked.mirror]) continue;
    double u = unit_interval(mix(seed ^ map_->mirror_keys[ranked.mirror]));
    draws[n++] = {std::log(u) / map_->mirrors[ranked.mirror].weight, ranked.mirror};
  }
  // Largest key first; a few mirrors, so a partial selection does.
  for (size_t written = 0; written < answers && written < n; ++written) {
    size_t best = written;
    for (size_t j = written + 1; j < n; ++j) {
      if (draws[j].key > draws[best].key) best = j;
    }
    std::swap(draws[written], draws[best]);
    decision.mirrors[decision.count++] = draws[written].mirror;
  }
  return static_cast<unsigned>(n);
}

GeoResult Engine::locate(const IpAddress& address) const {
  if (map_->geoip != nullptr) return map_->geoip->lookup(address);
  GeoResult unknown;
  unknown.network = IpPrefix{address.masked(0), 0};
  return unknown;
}

}  // namespace geosteer::steering
