#include "steering/steering_map.h"

#include <algorithm>
#include <array>
#include <future>
#include <optional>
#include <map>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include "common/limits.h"
#include "steering/ranking.h"

namespace geosteer::steering {
namespace {

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
  for (const auto& entry : service.asn_overrides) check_indices(entry.second);
  if (!(service.spread_km >= 0) || !(service.failover_km >= 0)) fail("spread_km and failover_km must not be negative");
}

// FNV-1a, 64 bits: small, and the same for an id on every node and after a reload.
uint64_t id_hash(const std::string& id) {
  uint64_t hash = 0xcbf29ce484222325;
  for (unsigned char c : id) hash = (hash ^ c) * 0x100000001b3;
  return hash;
}

// A ranking as a key for interning: one number per place.
uint64_t place_key(const RankedMirror& r) {
  return uint64_t{r.mirror} << 32 | uint64_t{static_cast<uint8_t>(r.reason)} << 24 | uint64_t{r.flags} << 16 | r.near;
}

std::vector<uint64_t> ranking_key(std::span<const RankedMirror> ranking) {
  std::vector<uint64_t> key;
  key.reserve(ranking.size());
  for (const RankedMirror& r : ranking) key.push_back(place_key(r));
  return key;
}

// Compiles one (client family, answer family) map of a service.
class FamilyCompiler {
 public:
  FamilyCompiler(const ServiceSpec& service, const std::vector<Mirror>& mirrors,
                 const LocatedPartition& located, const ContextPartition& contexts,
                 Family answer_family, unsigned coarse_depth)
      : located_(located),
        contexts_(contexts),
        ranker_(service, mirrors, answer_family),
        out_(located.partition.family(), coarse_depth) {}

  FamilyMap compile() {
    const Partition& contexts = contexts_.partition();
    // Every range of equal location and network context, valued by its interned
    // ranking; neighbours with equal rankings make one range.
    out_.reserve(located_.partition.size() + contexts.size());
    uint32_t previous_ranking = UINT32_MAX, previous_head = UINT32_MAX;
    sweep(located_.partition, contexts, [&](Address128 start, uint32_t location, uint32_t context) {
      uint32_t ranking = ranking_id(location, context);
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
  // Memoized: most ranges have no network context, so those are found by location
  // alone.
  uint32_t ranking_id(uint32_t location, uint32_t context) {
    if (location == located_.ipv4_mapped) {
      // Never read (queries there are steered as IPv4); only kept apart.
      if (mapped_ranking_ == kUnknown) mapped_ranking_ = out_.add_ranking({});
      return mapped_ranking_;
    }
    if (context == 0) {
      uint32_t& known = by_location_[location];
      if (known == kUnknown) known = intern(location, 0);
      return known;
    }
    uint64_t pair = uint64_t{location} << 32 | context;
    auto [it, added] = by_pair_.try_emplace(pair, 0);
    if (added) it->second = intern(location, context);
    return it->second;
  }

  uint32_t intern(uint32_t location, uint32_t context) {
    std::vector<RankedMirror> ranking = ranker_.rank(located_.locations[location], contexts_.context(context));
    auto [known, is_new] = by_ranking_.try_emplace(ranking_key(ranking), 0);
    if (is_new) known->second = out_.add_ranking(ranking);
    return known->second;
  }

  // The identity of a ranking's head: its first places (FamilyMap::head_length)
  // with their flags. Reasons are left out: the scope promises the same answer, and
  // each range keeps its own ranking, so the reason given to every client stays its
  // own.
  uint32_t head_id(uint32_t ranking) {
    while (head_of_.size() <= ranking) {
      std::span<const RankedMirror> places = out_.ranking(static_cast<uint32_t>(head_of_.size()));
      size_t length = out_.head_length(places);
      // Reasons are left out (see above); the near masks stay: they decide answers.
      std::vector<uint64_t> key{length};
      for (size_t i = 0; i < places.size() && i < length; ++i) {
        key.push_back(place_key(places[i]) & ~(uint64_t{0xFF} << 24));
      }
      auto [it, added] = heads_.try_emplace(std::move(key), static_cast<uint32_t>(heads_.size()));
      head_of_.push_back(it->second);
    }
    return head_of_[ranking];
  }

  const LocatedPartition& located_;
  const ContextPartition& contexts_;
  Ranker ranker_;
  FamilyMap out_;
  static constexpr uint32_t kUnknown = UINT32_MAX;
  uint32_t mapped_ranking_ = kUnknown;
  std::vector<uint32_t> by_location_ = std::vector<uint32_t>(located_.locations.size(), kUnknown);
  std::unordered_map<uint64_t, uint32_t> by_pair_;  // (location, context) -> ranking
  std::map<std::vector<uint64_t>, uint32_t> by_ranking_;
  std::map<std::vector<uint64_t>, uint32_t> heads_;
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

// Whether any service or mirror steers by AS: only then is the ASN data walked.
bool names_asns(const std::vector<ServiceSpec>& services, const std::vector<Mirror>& mirrors) {
  return std::any_of(services.begin(), services.end(), [](const ServiceSpec& s) { return !s.asn_overrides.empty(); }) ||
         std::any_of(mirrors.begin(), mirrors.end(), [](const Mirror& m) { return !m.asns.empty(); });
}

LocatedPartition unknown_everywhere(Family family) {
  LocatedPartition located{{Location{}}, Partition(family), UINT32_MAX};
  located.partition.append(0, 0);
  return located;
}

}  // namespace


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
  for (const Mirror& mirror : map->mirrors) map->mirror_keys.push_back(id_hash(mirror.id));
  map->services = std::move(services);
  map->geoip = std::move(geoip);
  map->maps.resize(map->services.size());
  if (map->services.empty()) return map;
  // The two client families share nothing but read-only inputs: the IPv6 half is
  // compiled on a thread of its own while this one does IPv4 (a reload takes half
  // as long where there are two cores).
  auto compile_client_family = [&map, &options](Family client) {
    // The GeoIP walks are shared by every service; they are the slow part.
    LocatedPartition located = map->geoip ? map->geoip->partition(client) : unknown_everywhere(client);
    if (client == Family::V6) set_apart_ipv4_mapped(located);
    std::optional<AsnPartition> asns;
    if (map->geoip && map->geoip->has_asn_data() && names_asns(map->services, map->mirrors)) {
      asns = map->geoip->asn_partition(client);
    }
    std::vector<std::array<std::optional<FamilyMap>, 2>> out(map->services.size());
    for (size_t s = 0; s < map->services.size(); ++s) {
      const ServiceSpec& service = map->services[s];
      unsigned depth = options.coarse_depth != 0 ? options.coarse_depth : service.answers;
      ContextPartition contexts(service, map->mirrors, asns ? &*asns : nullptr, client);
      for (Family answer : {Family::V4, Family::V6}) {
        out[s][answer == Family::V4 ? 0 : 1].emplace(
            FamilyCompiler(service, map->mirrors, located, contexts, answer, depth).compile());
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
