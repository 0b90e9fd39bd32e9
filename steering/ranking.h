// How a service ranks its mirrors for one range of addresses: the tiers of the
// README's "How a mirror is chosen", and the network context (overrides, ASes, home
// networks) that the steering map refines its ranges by. Internal to steering/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "steering/geoip.h"
#include "steering/partition.h"
#include "steering/steering_map.h"
#include "steering/types.h"

namespace geosteer::steering {

// What besides the location decides a ranking, for one range of addresses: the
// service's network override holding it (1 + index, or 0), its AS (0 unless the
// service or one of its mirrors names it) and the mirrors whose home networks hold it.
struct NetworkContext {
  uint32_t network_override = 0;
  uint32_t asn = 0;
  std::span<const uint16_t> home;  // mirror indices, config order
};

// Ranks a service's answerable mirrors of one answer family for a location and its
// network context, as the README's "How a mirror is chosen" says: the network
// override's mirrors, the ASN override's, the mirrors whose home holds the client,
// the country's, the continent's, then every mirror by distance, or the fallback and
// config order where there are no coordinates. Mirrors of weight 0 go last.
class Ranker {
 public:
  Ranker(const ServiceSpec& service, const std::vector<Mirror>& mirrors, Family answer_family)
      : service_(service), mirrors_(mirrors), answerable_(mirrors.size(), false),
        distance_(mirrors.size(), 0) {
    for (uint16_t index : service.mirrors) {
      const Mirror& mirror = mirrors[index];
      // A drained mirror is probed but never answered.
      if (mirror.drain || mirror.addresses(answer_family).empty() || answerable_[index]) continue;
      answerable_[index] = true;
      order_.push_back(index);
    }
  }

  std::vector<RankedMirror> rank(const Location& location, const NetworkContext& context) {
    ranking_.clear();
    seen_.assign(mirrors_.size(), false);
    if (location.coordinates) {
      for (uint16_t m : order_) distance_[m] = distance_km(*location.coordinates, mirrors_[m].location);
    }
    if (context.network_override != 0) {
      offer(service_.network_overrides[context.network_override - 1].second, Reason::NetworkOverride);
    }
    for (const auto& [asn, mirrors] : service_.asn_overrides) {
      if (asn == context.asn) offer(mirrors, Reason::AsnOverride);
    }
    offer_home(context, location.coordinates.has_value());
    offer_codes(service_.country_overrides, location.country, Reason::CountryOverride);
    offer_codes(service_.continent_overrides, location.continent, Reason::ContinentOverride);
    if (location.coordinates) {
      offer_sorted(order_, Reason::Distance);
    } else {
      offer(service_.fallback, Reason::Fallback);
      offer(order_, Reason::ConfigOrder);
    }
    // Weight 0: answered only when no other candidate is left.
    std::stable_partition(ranking_.begin(), ranking_.end(),
                          [&](const RankedMirror& r) { return mirrors_[r.mirror].weight != 0; });
    if (location.coordinates) mark_spread();
    mark_near(location.coordinates.has_value());
    return ranking_;
  }

 private:
  void offer(std::span<const uint16_t> list, Reason why) {
    for (uint16_t mirror : list) {
      if (!answerable_[mirror] || seen_[mirror]) continue;
      seen_[mirror] = true;
      ranking_.push_back({mirror, why});
    }
  }

  void offer_codes(const std::vector<std::pair<std::string, std::vector<uint16_t>>>& overrides,
                   const char* code, Reason why) {
    if (code[0] == '\0') return;
    for (const auto& [key, mirrors] : overrides) {
      if (key == code) offer(mirrors, why);
    }
  }

  // The mirrors whose networks or ASes hold the client, as one tier: nearest first
  // where the client has coordinates, else config order.
  void offer_home(const NetworkContext& context, bool located) {
    home_.clear();
    for (uint16_t m : order_) {
      const Mirror& mirror = mirrors_[m];
      bool in_network = std::find(context.home.begin(), context.home.end(), m) != context.home.end();
      bool in_asn = context.asn != 0 &&
                    std::find(mirror.asns.begin(), mirror.asns.end(), context.asn) != mirror.asns.end();
      if (in_network || in_asn) home_.push_back({m, in_network ? Reason::HomeNetwork : Reason::HomeAsn});
    }
    if (located) {
      std::stable_sort(home_.begin(), home_.end(), [&](const RankedMirror& a, const RankedMirror& b) {
        return distance_[a.mirror] < distance_[b.mirror];
      });
    }
    for (const RankedMirror& r : home_) offer(std::span<const uint16_t>(&r.mirror, 1), r.reason);
  }

  // Nearest first; equal distances keep config order.
  void offer_sorted(const std::vector<uint16_t>& mirrors, Reason why) {
    sorted_ = mirrors;
    std::stable_sort(sorted_.begin(), sorted_.end(),
                     [&](uint16_t a, uint16_t b) { return distance_[a] < distance_[b]; });
    offer(sorted_, why);
  }

  // The leading mirrors of a tier without an order of the operator's (home or
  // distance) that are no farther than the first plus spread_km share its clients.
  void mark_spread() {
    if (service_.spread_km <= 0 || ranking_.empty()) return;
    // The home networks and home ASes make one tier: their mirrors are ranked
    // together, nearest first.
    auto tier_of = [](Reason r) { return r == Reason::HomeAsn ? Reason::HomeNetwork : r; };
    Reason tier = tier_of(ranking_.front().reason);
    if (tier != Reason::Distance && tier != Reason::HomeNetwork) return;
    double limit = distance_[ranking_.front().mirror] + service_.spread_km;
    size_t group = 0;
    while (group < ranking_.size() && tier_of(ranking_[group].reason) == tier &&
           distance_[ranking_[group].mirror] <= limit && mirrors_[ranking_[group].mirror].weight != 0) {
      ++group;
    }
    if (group < 2) return;  // one mirror shares with nobody
    for (size_t i = 0; i < group; ++i) ranking_[i].flags |= RankedMirror::kSpread;
  }

  // For each of the first places: which of the first places are no farther than it
  // plus failover_km. Whichever of them is answered first, health permitting, the
  // query then knows which may follow it.
  // A client without coordinates has no distances to judge by: every one of the
  // first places may follow (the places after them never do, for any client).
  void mark_near(bool located) {
    if (service_.failover_km <= 0) return;
    size_t places = std::min(ranking_.size(), RankedMirror::kFailoverPlaces);
    for (size_t i = 0; i < places; ++i) {
      if (!located) {
        ranking_[i].near = static_cast<uint16_t>((1u << places) - 1);
        continue;
      }
      double limit = distance_[ranking_[i].mirror] + service_.failover_km;
      for (size_t j = 0; j < places; ++j) {
        if (distance_[ranking_[j].mirror] <= limit) ranking_[i].near |= static_cast<uint16_t>(1u << j);
      }
    }
  }

  const ServiceSpec& service_;
  const std::vector<Mirror>& mirrors_;
  std::vector<bool> answerable_;
  std::vector<double> distance_;  // from the client, by mirror index, when it has coordinates
  std::vector<uint16_t> order_;   // the answerable mirrors, config order
  std::vector<RankedMirror> ranking_;
  std::vector<bool> seen_;
  std::vector<RankedMirror> home_;
  std::vector<uint16_t> sorted_;
};

// The network context of every address for one service, as a partition whose values
// index `contexts` (0: no override, no AS that matters, no home network).
class ContextPartition {
 public:
  ContextPartition(const ServiceSpec& service, const std::vector<Mirror>& mirrors,
                   const AsnPartition* asns, Family family)
      : partition_(family) {
    home_sets_.push_back({});
    contexts_.push_back({});
    std::vector<IpPrefix> networks;
    for (const auto& entry : service.network_overrides) networks.push_back(entry.first);
    Partition overrides = longest_match_partition(networks, family);
    Partition homes = home_partition(service, mirrors, family);
    Partition combined = refine(overrides, homes, [&](uint32_t network, uint32_t home) {
      return context_id({network, 0, home});
    });
    if (asns != nullptr) {
      Partition relevant = relevant_asns(service, mirrors, asns->partition);
      combined = refine(combined, relevant, [&](uint32_t context, uint32_t asn) {
        Key key = contexts_[context];
        key.asn = asn;
        return context_id(key);
      });
    }
    partition_ = std::move(combined);
  }

  const Partition& partition() const { return partition_; }
  NetworkContext context(uint32_t id) const {
    const Key& key = contexts_[id];
    return {key.network_override, key.asn, home_sets_[key.home]};
  }

 private:
  struct Key {
    uint32_t network_override = 0, asn = 0, home = 0;
    auto operator<=>(const Key&) const = default;
  };

  uint32_t context_id(const Key& key) {
    auto [it, added] = ids_.try_emplace(key, static_cast<uint32_t>(contexts_.size()));
    if (added) contexts_.push_back(key);
    return it->second;
  }

  // Values index home_sets_: the service's mirrors whose `networks` hold the range.
  Partition home_partition(const ServiceSpec& service, const std::vector<Mirror>& mirrors,
                           Family family) {
    Partition homes(family);
    homes.append(0, 0);
    std::map<std::vector<uint16_t>, uint32_t> set_ids{{{}, 0}};
    for (uint16_t m : service.mirrors) {
      if (mirrors[m].networks.empty()) continue;
      Partition inside = longest_match_partition(mirrors[m].networks, family);
      homes = refine(homes, inside, [&](uint32_t set, uint32_t in) {
        if (in == 0) return set;
        std::vector<uint16_t> with = home_sets_[set];
        if (std::find(with.begin(), with.end(), m) == with.end()) with.push_back(m);
        auto [it, added] = set_ids.try_emplace(with, static_cast<uint32_t>(home_sets_.size()));
        if (added) home_sets_.push_back(std::move(with));
        return it->second;
      });
    }
    return homes;
  }

  // The ASN partition with every AS the service and its mirrors do not name set to
  // 0: boundaries between ASes that change nothing must not narrow the scopes.
  static Partition relevant_asns(const ServiceSpec& service, const std::vector<Mirror>& mirrors,
                                 const Partition& asns) {
    std::vector<uint32_t> named;
    for (const auto& entry : service.asn_overrides) named.push_back(entry.first);
    for (uint16_t m : service.mirrors) named.insert(named.end(), mirrors[m].asns.begin(), mirrors[m].asns.end());
    std::sort(named.begin(), named.end());
    Partition out(asns.family());
    if (named.empty()) {
      out.append(0, 0);
      return out;
    }
    for (size_t i = 0; i < asns.size(); ++i) {
      bool relevant = std::binary_search(named.begin(), named.end(), asns.value(i));
      out.append(asns.start(i), relevant ? asns.value(i) : 0);
    }
    return out;
  }

  Partition partition_;
  std::vector<Key> contexts_;
  std::map<Key, uint32_t> ids_{{Key{}, 0}};
  std::vector<std::vector<uint16_t>> home_sets_;
};

}  // namespace geosteer::steering
