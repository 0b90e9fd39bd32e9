#include "steering/steering_map.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <future>
#include <optional>
#include <map>
#include <numbers>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include "common/limits.h"

namespace geosteer::steering {
namespace {

// Mean Earth radius (IUGG), in kilometres.
constexpr double kEarthRadiusKm = 6371.0088;

const std::vector<IpAddress>& addresses_of(const Mirror& mirror, Family family) {
  return family == Family::V4 ? mirror.ipv4 : mirror.ipv6;
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

// Ranks a service's answerable mirrors of one answer family for a location and the
// network override that holds the address (if any), as the README's "How a mirror is
// chosen" says: the override's mirrors, the country's, the continent's, then every
// mirror by distance, or the fallback and config order where there are no coordinates.
class Ranker {
 public:
  Ranker(const ServiceSpec& service, const std::vector<Mirror>& mirrors, Family answer_family)
      : service_(service), mirrors_(mirrors), answerable_(mirrors.size(), false) {
    for (uint16_t index : service.mirrors) {
      const Mirror& mirror = mirrors[index];
      // A drained mirror is probed but never answered.
      if (mirror.drain || addresses_of(mirror, answer_family).empty() || answerable_[index]) continue;
      answerable_[index] = true;
      order_.push_back(index);
    }
  }

  // `network_override`: 1 + its index in the service's network overrides, or 0.
  std::vector<RankedMirror> rank(const Location& location, uint32_t network_override) {
    ranking_.clear();
    seen_.assign(mirrors_.size(), false);
    if (network_override != 0) {
      offer(service_.network_overrides[network_override - 1].second, Reason::NetworkOverride);
    }
    offer_codes(service_.country_overrides, location.country, Reason::CountryOverride);
    offer_codes(service_.continent_overrides, location.continent, Reason::ContinentOverride);
    if (location.coordinates) {
      offer_by_distance(*location.coordinates);
    } else {
      offer(service_.fallback, Reason::Fallback);
      offer(order_, Reason::ConfigOrder);
    }
    return ranking_;
  }

 private:
  void offer(const std::vector<uint16_t>& list, Reason why) {
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

  // Nearest first; equal distances keep config order.
  void offer_by_distance(Coordinates client) {
    by_distance_.clear();
    for (size_t i = 0; i < order_.size(); ++i) {
      by_distance_.push_back({distance_km(client, mirrors_[order_[i]].location), i});
    }
    std::sort(by_distance_.begin(), by_distance_.end());
    sorted_.clear();
    for (const auto& entry : by_distance_) sorted_.push_back(order_[entry.second]);
    offer(sorted_, Reason::Distance);
  }

  const ServiceSpec& service_;
  const std::vector<Mirror>& mirrors_;
  std::vector<bool> answerable_;
  std::vector<uint16_t> order_;  // the answerable mirrors, config order
  std::vector<RankedMirror> ranking_;
  std::vector<bool> seen_;
  std::vector<std::pair<double, size_t>> by_distance_;
  std::vector<uint16_t> sorted_;
};

// A ranking as a key for interning: one number per place.
std::vector<uint32_t> ranking_key(std::span<const RankedMirror> ranking) {
  std::vector<uint32_t> key;
  key.reserve(ranking.size());
  for (const RankedMirror& r : ranking) {
    key.push_back(uint32_t{r.mirror} << 8 | static_cast<uint32_t>(r.reason));
  }
  return key;
}

// Compiles one (client family, answer family) map of a service.
class FamilyCompiler {
 public:
  FamilyCompiler(const ServiceSpec& service, const std::vector<Mirror>& mirrors,
                 const LocatedPartition& located, Family answer_family, unsigned coarse_depth)
      : service_(service),
        located_(located),
        ranker_(service, mirrors, answer_family),
        out_(located.partition.family(), coarse_depth) {}

  FamilyMap compile() {
    Family family = located_.partition.family();
    std::vector<IpPrefix> networks;
    for (const auto& entry : service_.network_overrides) networks.push_back(entry.first);
    Partition overrides = longest_match_partition(networks, family);
    // Every range of equal location and override, valued by its interned ranking;
    // neighbours with equal rankings make one range.
    out_.reserve(located_.partition.size() + overrides.size());
    uint32_t previous_ranking = UINT32_MAX, previous_head = UINT32_MAX;
    sweep(located_.partition, overrides, [&](Address128 start, uint32_t location, uint32_t network) {
      uint32_t ranking = ranking_id(location, network);
      if (ranking == previous_ranking) return;
      uint32_t head = head_id(ranking);
      out_.append_fine(start, ranking, head != previous_head);
      previous_ranking = ranking;
      previous_head = head;
    });
    out_.finish();
    return std::move(out_);
  }

 private:
  // Memoized: most ranges are outside every network override, so those are found
  // by location alone.
  uint32_t ranking_id(uint32_t location, uint32_t network) {
    if (location == located_.ipv4_mapped) {
      // Never read (queries there are steered as IPv4); only kept apart.
      if (mapped_ranking_ == kUnknown) mapped_ranking_ = out_.add_ranking({});
      return mapped_ranking_;
    }
    if (network == 0) {
      uint32_t& known = by_location_[location];
      if (known == kUnknown) known = intern(location, 0);
      return known;
    }
    uint64_t pair = uint64_t{location} << 32 | network;
    auto [it, added] = by_pair_.try_emplace(pair, 0);
    if (added) it->second = intern(location, network);
    return it->second;
  }

  uint32_t intern(uint32_t location, uint32_t network) {
    std::vector<RankedMirror> ranking = ranker_.rank(located_.locations[location], network);
    auto [known, is_new] = by_ranking_.try_emplace(ranking_key(ranking), 0);
    if (is_new) known->second = out_.add_ranking(ranking);
    return known->second;
  }

  // The identity of a ranking's first coarse_depth mirrors, once per ranking. Their
  // reasons are left out: the scope promises the same answer, and each range keeps
  // its own ranking, so the reason given to every client stays its own.
  uint32_t head_id(uint32_t ranking) {
    while (head_of_.size() <= ranking) {
      std::span<const RankedMirror> places = out_.ranking(static_cast<uint32_t>(head_of_.size()));
      std::vector<uint32_t> mirrors;
      for (size_t i = 0; i < places.size() && i < out_.coarse_depth(); ++i) {
        mirrors.push_back(places[i].mirror);
      }
      auto [it, added] = heads_.try_emplace(std::move(mirrors), static_cast<uint32_t>(heads_.size()));
      head_of_.push_back(it->second);
    }
    return head_of_[ranking];
  }

  const ServiceSpec& service_;
  const LocatedPartition& located_;
  Ranker ranker_;
  FamilyMap out_;
  static constexpr uint32_t kUnknown = UINT32_MAX;
  uint32_t mapped_ranking_ = kUnknown;
  std::vector<uint32_t> by_location_ = std::vector<uint32_t>(located_.locations.size(), kUnknown);
  std::unordered_map<uint64_t, uint32_t> by_pair_;  // (location, override) -> ranking
  std::map<std::vector<uint32_t>, uint32_t> by_ranking_;
  std::map<std::vector<uint32_t>, uint32_t> heads_;
  std::vector<uint32_t> head_of_;  // by ranking
};

// Queries steer ::ffff:a.b.c.d as a.b.c.d (Engine::choose), so no IPv6 range may
// reach into ::ffff:0:0/96: it becomes a location of its own, which FamilyCompiler
// gives a ranking of its own.
void set_apart_ipv4_mapped(LocatedPartition& located) {
  Partition mapped(Family::V6);
  Address128 first = Address128{0xFFFF} << 32;
  mapped.append(0, 0);
  mapped.append(first, 1);
  mapped.append(prefix_end(first, 96, 128) + 1, 0);
  located.ipv4_mapped = static_cast<uint32_t>(located.locations.size());
  located.locations.push_back(Location{});
  uint32_t index = located.ipv4_mapped;
  located.partition = refine(located.partition, mapped,
                             [index](uint32_t location, uint32_t in_mapped) { return in_mapped ? index : location; });
}

LocatedPartition unknown_everywhere(Family family) {
  LocatedPartition located{{Location{}}, Partition(family), UINT32_MAX};
  located.partition.append(0, 0);
  return located;
}

}  // namespace

double distance_km(Coordinates a, Coordinates b) {
  constexpr double kRadiansPerDegree = std::numbers::pi / 180.0;
  double lat1 = a.lat * kRadiansPerDegree, lat2 = b.lat * kRadiansPerDegree;
  double half_dlat = (b.lat - a.lat) * kRadiansPerDegree / 2;
  double half_dlon = (b.lon - a.lon) * kRadiansPerDegree / 2;
  double h = std::sin(half_dlat) * std::sin(half_dlat) +
             std::cos(lat1) * std::cos(lat2) * std::sin(half_dlon) * std::sin(half_dlon);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(std::min(1.0, h)));
}

FamilyMap::Hit FamilyMap::find(const IpAddress& address) const {
  Address128 x = to_number(address);
  return family_ == Family::V4 ? find_in(v4_, x) : find_in(v6_, x);
}

template <typename Number>
FamilyMap::Hit FamilyMap::find_in(const Starts<Number>& starts, Address128 address) const {
  auto x = static_cast<Number>(address);
  size_t bucket = static_cast<size_t>(address >> (family_bits(family_) - kIndexBits));
  // The range holding x is between the one holding its bucket's first address and
  // the one holding the next bucket's first address.
  auto low = starts.fine.begin() + first_range_[bucket] + 1;
  auto high = bucket + 1 < first_range_.size() ? starts.fine.begin() + first_range_[bucket + 1] + 1
                                               : starts.fine.end();
  size_t i = static_cast<size_t>(std::upper_bound(low, high, x) - starts.fine.begin()) - 1;
  size_t c = fine_[i].coarse;
  // Each range ends where the next one starts; the last one at the family's end.
  Address128 last = last_address(family_);
  Address128 end = i + 1 < starts.fine.size() ? Address128{starts.fine[i + 1]} - 1 : last;
  Address128 coarse_end = c + 1 < starts.coarse.size() ? Address128{starts.coarse[c + 1]} - 1 : last;
  unsigned bits = family_bits(family_);
  return {ranking(fine_[i].ranking),
          static_cast<uint8_t>(widest_prefix_within(address, starts.fine[i], end, bits)),
          static_cast<uint8_t>(widest_prefix_within(address, starts.coarse[c], coarse_end, bits))};
}

MapFigures& MapFigures::operator+=(const MapFigures& other) {
  ranges += other.ranges;
  coarse_ranges += other.coarse_ranges;
  rankings += other.rankings;
  bytes += other.bytes;
  return *this;
}

MapFigures ServiceMap::figures() const {
  MapFigures sum;
  for (const FamilyMap& map : maps) {
    sum += {map.fine_ranges(), map.coarse_ranges(), map.rankings(), map.memory_bytes()};
  }
  return sum;
}

uint32_t FamilyMap::add_ranking(std::span<const RankedMirror> ranking) {
  rankings_.push_back({static_cast<uint32_t>(entries_.size()), static_cast<uint32_t>(ranking.size())});
  entries_.insert(entries_.end(), ranking.begin(), ranking.end());
  return static_cast<uint32_t>(rankings_.size() - 1);
}

void FamilyMap::append_fine(Address128 start, uint32_t ranking, bool starts_coarse) {
  auto append = [&](auto& starts) {
    using Number = typename std::remove_reference_t<decltype(starts.fine)>::value_type;
    if (starts_coarse) starts.coarse.push_back(static_cast<Number>(start));
    starts.fine.push_back(static_cast<Number>(start));
  };
  if (family_ == Family::V4) {
    append(v4_);
  } else {
    append(v6_);
  }
  if (starts_coarse) ++coarse_count_;
  fine_.push_back({ranking, static_cast<uint32_t>(coarse_count_ - 1)});
}

void FamilyMap::reserve(size_t ranges) {
  if (family_ == Family::V4) {
    v4_.fine.reserve(ranges);
  } else {
    v6_.fine.reserve(ranges);
  }
  fine_.reserve(ranges);
}

void FamilyMap::finish() {
  for (auto* v : {&v4_.fine, &v4_.coarse}) v->shrink_to_fit();
  for (auto* v : {&v6_.fine, &v6_.coarse}) v->shrink_to_fit();
  fine_.shrink_to_fit();
  unsigned shift = family_bits(family_) - kIndexBits;
  first_range_.resize(size_t{1} << kIndexBits);
  auto index = [&](const auto& starts) {
    using Number = typename std::remove_reference_t<decltype(starts)>::value_type;
    for (size_t bucket = 0; bucket < first_range_.size(); ++bucket) {
      auto first = static_cast<Number>(Address128{bucket} << shift);
      first_range_[bucket] = static_cast<uint32_t>(
          std::upper_bound(starts.begin(), starts.end(), first) - starts.begin() - 1);
    }
  };
  if (family_ == Family::V4) {
    index(v4_.fine);
  } else {
    index(v6_.fine);
  }
}

size_t FamilyMap::memory_bytes() const {
  return (v4_.fine.capacity() + v4_.coarse.capacity()) * sizeof(uint32_t) +
         (v6_.fine.capacity() + v6_.coarse.capacity()) * sizeof(Address128) +
         fine_.capacity() * sizeof(FineRange) + first_range_.capacity() * sizeof(uint32_t) +
         entries_.capacity() * sizeof(RankedMirror) + rankings_.capacity() * sizeof(RankingRef);
}

std::shared_ptr<const SteeringMap> SteeringMap::compile(std::vector<Mirror> mirrors,
                                                        std::vector<ServiceSpec> services,
                                                        std::shared_ptr<const GeoIp> geoip,
                                                        CompileOptions options) {
  auto map = std::make_shared<SteeringMap>();
  for (const ServiceSpec& service : services) check_service(service, mirrors.size());
  map->mirrors = std::move(mirrors);
  map->services = std::move(services);
  map->geoip = std::move(geoip);
  map->maps.resize(map->services.size());
  if (map->services.empty()) return map;
  // The two client families share nothing but read-only inputs: the IPv6 half is
  // compiled on a thread of its own while this one does IPv4 (a reload takes half
  // as long where there are two cores).
  auto compile_client_family = [&map, &options](Family client) {
    // The GeoIP walk is shared by every service; it is the slow part.
    LocatedPartition located = map->geoip ? map->geoip->partition(client) : unknown_everywhere(client);
    if (client == Family::V6) set_apart_ipv4_mapped(located);
    std::vector<std::array<std::optional<FamilyMap>, 2>> out(map->services.size());
    for (size_t s = 0; s < map->services.size(); ++s) {
      const ServiceSpec& service = map->services[s];
      unsigned depth = options.coarse_depth != 0 ? options.coarse_depth : service.answers;
      for (Family answer : {Family::V4, Family::V6}) {
        out[s][answer == Family::V4 ? 0 : 1].emplace(
            FamilyCompiler(service, map->mirrors, located, answer, depth).compile());
      }
    }
    return out;
  };
  auto v6 = std::async(std::launch::async, compile_client_family, Family::V6);
  auto v4_maps = compile_client_family(Family::V4);
  auto v6_maps = v6.get();  // rethrows what the IPv6 half threw
  for (size_t s = 0; s < map->services.size(); ++s) {
    for (auto* half : {&v4_maps, &v6_maps}) {
      for (auto& family_map : (*half)[s]) map->maps[s].maps.push_back(std::move(*family_map));
    }
  }
  return map;
}

}  // namespace geosteer::steering
