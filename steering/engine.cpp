#include "steering/engine.h"

#include "common/limits.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace geosteer::steering {
namespace {


// Mean Earth radius (IUGG), in kilometres.
constexpr double kEarthRadiusKm = 6371.0088;

size_t family_slot(Family family) { return family == Family::V4 ? 0 : 1; }

const std::vector<IpAddress>& addresses_of(const Mirror& mirror, Family family) {
  return family == Family::V4 ? mirror.ipv4 : mirror.ipv6;
}

bool contains(std::span<const uint16_t> list, uint16_t mirror) {
  return std::find(list.begin(), list.end(), mirror) != list.end();
}

// Collects the answer: distinct candidates, best first, up to the service's count,
// remembering what put the first one there.
class Picker {
 public:
  Picker(Decision& decision, unsigned answers, std::span<const uint16_t> candidates)
      : decision_(decision), answers_(answers), candidates_(candidates) {}

  bool full() const { return decision_.count >= answers_; }

  void offer(uint16_t mirror, Reason why) {
    if (full() || !contains(candidates_, mirror) || contains(decision_.chosen(), mirror)) return;
    if (decision_.count == 0) decision_.reason = why;
    decision_.mirrors[decision_.count++] = mirror;
  }

  void offer_all(std::span<const uint16_t> mirrors, Reason why) {
    for (uint16_t mirror : mirrors) offer(mirror, why);
  }

 private:
  Decision& decision_;
  unsigned answers_;
  std::span<const uint16_t> candidates_;
};

// The override whose network contains the address with the longest prefix; the first
// in config order among equals. nullptr when none does.
const std::pair<IpPrefix, std::vector<uint16_t>>* matching_network_override(
    const ServiceSpec& service, const IpAddress& address) {
  const std::pair<IpPrefix, std::vector<uint16_t>>* best = nullptr;
  for (const auto& entry : service.network_overrides) {
    if (!entry.first.contains(address)) continue;
    if (best == nullptr || entry.first.length > best->first.length) best = &entry;
  }
  return best;
}

using CodeOverrides = std::vector<std::pair<std::string, std::vector<uint16_t>>>;

void offer_code_overrides(Picker& picker, const CodeOverrides& overrides, const char* code,
                          Reason why) {
  if (code[0] == '\0') return;
  for (const auto& [key, mirrors] : overrides) {
    if (key == code) picker.offer_all(mirrors, why);
  }
}

// ECS SCOPE PREFIX-LENGTH (RFC 7871 section 7.2.1). A resolver caches the answer for
// every client inside client/scope, so the scope must be long enough that every
// address in that network would get this very answer.
//
// `base` is the network the lookups decided on: inside it GeoIP returns the same
// location and the same network override matches. What it does not account for is a
// network override that lies inside that network without containing the client:
// addresses in the override would get another answer. Such an override N shares
// c = common_prefix_length(client, N) < N.length leading bits with the client, and it
// overlaps client/base exactly when c >= base. The network client/(c+1) no longer
// reaches into N, so the scope grows to c+1 for every such N.
uint8_t scope_prefix(const ServiceSpec& service, const IpAddress& client, unsigned base) {
  unsigned scope = base;
  for (const auto& [network, mirrors] : service.network_overrides) {
    if (network.address.family != client.family || network.contains(client)) continue;
    unsigned shared = common_prefix_length(client, network.address.masked(network.length));
    unsigned c = std::min(shared, static_cast<unsigned>(network.length));
    if (c >= base) scope = std::max(scope, c + 1);
  }
  return static_cast<uint8_t>(std::min(scope, client.bits()));
}

// The service's mirrors that could answer for the family at all: not drained (a
// drained mirror is probed but never answered) and with an address of the family.
std::vector<uint16_t> answerable(const ServiceSpec& service, Family family,
                                 const std::vector<Mirror>& mirrors) {
  std::vector<uint16_t> out;
  for (uint16_t index : service.mirrors) {
    const Mirror& mirror = mirrors[index];
    if (mirror.drain || addresses_of(mirror, family).empty() || contains(out, index)) continue;
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

GeoResult locate(const GeoIp* geoip, const IpAddress& address) {
  if (geoip != nullptr) return geoip->lookup(address);
  GeoResult unknown;
  unknown.network = IpPrefix{address.masked(0), 0};
  return unknown;
}

// Ranks every candidate by distance from the client, nearest first; equal distances
// keep config order.
void offer_by_distance(Picker& picker, std::span<const uint16_t> candidates,
                       const std::vector<Mirror>& mirrors, Coordinates client) {
  std::array<std::pair<double, uint16_t>, kMaxServiceMirrors> ranked;  // (km, position)
  size_t count = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    ranked[count++] = {Engine::distance_km(client, mirrors[candidates[i]].location),
                       static_cast<uint16_t>(i)};
  }
  std::sort(ranked.begin(), ranked.begin() + count);
  for (size_t i = 0; i < count && !picker.full(); ++i) {
    picker.offer(candidates[ranked[i].second], Reason::Distance);
  }
}

void check_service(const ServiceSpec& service, size_t mirror_count) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("service " + service.name + ": " + what);
  };
  if (service.answers == 0 || service.answers > kMaxAnswerMirrors) {
    fail("answers must be between 1 and " + std::to_string(kMaxAnswerMirrors));
  }
  if (service.mirrors.size() > kMaxServiceMirrors) {
    fail("lists " + std::to_string(service.mirrors.size()) + " mirrors; at most " +
         std::to_string(kMaxServiceMirrors) + " are supported");
  }
  auto check_indices = [&](const std::vector<uint16_t>& indices) {
    for (uint16_t index : indices) {
      if (index >= mirror_count) fail("mirror index " + std::to_string(index) + " out of range");
    }
  };
  check_indices(service.mirrors);
  check_indices(service.fallback);
  for (const auto& entry : service.country_overrides) check_indices(entry.second);
  for (const auto& entry : service.continent_overrides) check_indices(entry.second);
  for (const auto& entry : service.network_overrides) check_indices(entry.second);
}

}  // namespace

const char* to_string(Reason r) {
  switch (r) {
    case Reason::NetworkOverride: return "network-override";
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
               std::shared_ptr<const healthcheck::HealthState> health)
    : mirrors_(std::move(mirrors)),
      services_(std::move(services)),
      geoip_(std::move(geoip)),
      health_(health ? std::move(health)
                     : std::make_shared<const healthcheck::HealthState>(
                           healthcheck::HealthState::all_up(mirrors_.size()))) {
  views_.reserve(mirrors_.size());
  for (size_t i = 0; i < mirrors_.size(); ++i) {
    views_.push_back({view_of(i, mirrors_[i].ipv4, *health_), view_of(i, mirrors_[i].ipv6, *health_)});
  }
  pools_.reserve(services_.size());
  for (const ServiceSpec& service : services_) {
    check_service(service, mirrors_.size());
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
  std::vector<uint16_t> all = answerable(service, family, mirrors_);
  auto with_verdict = [&](Verdict verdict) {
    return [this, family, verdict](uint16_t m) { return this->verdict(m, family) == verdict; };
  };
  if (auto up = only(all, with_verdict(Verdict::Up)); !up.empty()) return {up, Tier::Healthy};
  if (auto stale = only(all, with_verdict(Verdict::Stale)); !stale.empty()) {
    return {stale, Tier::Stale};
  }
  // Nothing is up or stale here, so the fallback mirrors that still answer are slow
  // (a flapping mirror stays out until it holds still, as a down one does).
  auto fallback = only(all, [&](uint16_t m) {
    return contains(service.fallback, m) && verdict(m, family) == Verdict::Slow;
  });
  if (!fallback.empty()) return {fallback, Tier::Fallback};
  // Healthy when there is no mirror of the family at all: health decided nothing.
  return {all, all.empty() ? Tier::Healthy : Tier::FailOpen};
}

Decision Engine::choose(size_t service_index, Family family, const Client& client) const {
  Decision decision;
  const ServiceSpec& service = services_.at(service_index);
  const Pool& pool = pools_[service_index][family_slot(family)];
  std::span<const uint16_t> candidates = pool.candidates;
  decision.tier = pool.tier;
  decision.geo = locate(geoip_.get(), client.address);
  if (candidates.empty()) return decision;  // NoCandidate, and no part of the address mattered

  Picker picker(decision, service.answers, candidates);
  const auto* network_override = matching_network_override(service, client.address);
  if (network_override != nullptr) {
    picker.offer_all(network_override->second, Reason::NetworkOverride);
  }
  // When the network override alone filled the answer, nothing GeoIP said mattered.
  bool geo_decides = !picker.full();

  const Location& location = decision.geo.location;
  offer_code_overrides(picker, service.country_overrides, location.country,
                       Reason::CountryOverride);
  offer_code_overrides(picker, service.continent_overrides, location.continent,
                       Reason::ContinentOverride);
  if (location.coordinates) {
    offer_by_distance(picker, candidates, mirrors_, *location.coordinates);
  } else {
    picker.offer_all(service.fallback, Reason::Fallback);
    picker.offer_all(candidates, Reason::ConfigOrder);
  }

  unsigned override_length = network_override != nullptr ? network_override->first.length : 0;
  unsigned base = geo_decides ? std::max<unsigned>(override_length, decision.geo.network.length)
                              : override_length;
  decision.scope_prefix = scope_prefix(service, client.address, base);
  return decision;
}

double Engine::distance_km(Coordinates a, Coordinates b) {
  constexpr double kRadiansPerDegree = std::numbers::pi / 180.0;
  double lat1 = a.lat * kRadiansPerDegree, lat2 = b.lat * kRadiansPerDegree;
  double half_dlat = (b.lat - a.lat) * kRadiansPerDegree / 2;
  double half_dlon = (b.lon - a.lon) * kRadiansPerDegree / 2;
  double h = std::sin(half_dlat) * std::sin(half_dlat) +
             std::cos(lat1) * std::cos(lat2) * std::sin(half_dlon) * std::sin(half_dlon);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(std::min(1.0, h)));
}

}  // namespace geosteer::steering
