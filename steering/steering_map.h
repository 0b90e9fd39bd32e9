// The steering map: each service's choice for every client address, compiled at
// load from the GeoIP databases and the service's overrides, so that a query is one
// range lookup instead of a GeoIP lookup, a distance per mirror and a sort.
//
// For every network the map holds the service's full ranking of its answerable
// mirrors (network override, country and continent overrides, then distance, or
// the fallback and config order where the location is unknown). Health is not in
// it: a query walks the ranking and skips the mirrors that are not in its tier, so
// a health change never rebuilds the map. Networks with equal rankings are merged
// into ranges as wide as they go; the ECS scope of an answer is the widest prefix of
// the client's address inside its range.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/ip.h"
#include "steering/geoip.h"
#include "steering/partition.h"
#include "steering/types.h"

namespace geosteer::steering {

struct RankedMirror {
  uint16_t mirror;     // index into the map's mirrors
  Reason reason;       // what put it at this place
  uint8_t flags = 0;   // kSpread
  // With the service's failover_km: bit j is set when the mirror at place j (of the
  // first kFailoverPlaces) is no farther from the client than this one plus
  // failover_km, so that it may follow this one when this one is answered first.
  uint16_t near = 0;

  // One of the leading mirrors that share clients by weight (service spread_km).
  static constexpr uint8_t kSpread = 1;
  static constexpr size_t kFailoverPlaces = 16;
  bool spread() const { return (flags & kSpread) != 0; }
  // Whether the mirror at `place` may be answered after this one.
  bool near_enough(size_t place) const { return place < kFailoverPlaces && (near >> place & 1) != 0; }
};

// One family of one service: ranges of addresses with the same ranking (fine), and
// ranges whose rankings agree on their first `coarse_depth` mirrors (coarse), each a
// run of fine ranges. An answer that only needed mirrors from the first
// `coarse_depth` places holds for the whole coarse range.
class FamilyMap {
 public:
  struct Hit {
    std::span<const RankedMirror> ranking;
    uint8_t fine_scope;    // widest prefix around the address with the same ranking
    uint8_t coarse_scope;  // ... with the same first coarse_depth mirrors
  };

  FamilyMap(Family family, unsigned coarse_depth) : family_(family), coarse_depth_(coarse_depth) {}
  FamilyMap(FamilyMap&&) = default;

  // Allocation-free.
  Hit find(const IpAddress& address) const;

  unsigned coarse_depth() const { return coarse_depth_; }
  // The leading places every ranking of a coarse range shares: coarse_depth, or all
  // the spread mirrors where there are more (any of them may come first).
  size_t head_length(std::span<const RankedMirror> ranking) const {
    size_t spread = 0;
    while (spread < ranking.size() && ranking[spread].spread()) ++spread;
    return std::max<size_t>(coarse_depth_, spread);
  }
  size_t fine_ranges() const { return fine_.size(); }
  size_t coarse_ranges() const { return coarse_count_; }
  size_t rankings() const { return rankings_.size(); }
  size_t memory_bytes() const;

  // Built by compile(): ranges appended in address order.
  uint32_t add_ranking(std::span<const RankedMirror> ranking);
  std::span<const RankedMirror> ranking(uint32_t id) const {
    return {entries_.data() + rankings_[id].first, rankings_[id].count};
  }
  void append_fine(Address128 start, uint32_t ranking, bool starts_coarse);
  void reserve(size_t ranges);  // at most this many: growing would copy millions
  void finish();                // once built: indexes, and gives back what was not used

 private:
  struct RankingRef {
    uint32_t first;
    uint32_t count;
  };
  // Range starts of one family's width: millions of IPv4 ranges take a quarter of
  // the room as 32-bit numbers, and more of them share a cache line while searched.
  template <typename Number>
  struct Starts {
    std::vector<Number> fine, coarse;
  };
  template <typename Number>
  Hit find_in(const Starts<Number>& starts, Address128 address) const;

  Family family_;
  unsigned coarse_depth_;
  Starts<uint32_t> v4_;
  Starts<Address128> v6_;
  // What a query reads of a fine range besides its start, side by side: one cache
  // line for both.
  struct FineRange {
    uint32_t ranking;
    uint32_t coarse;  // index into the coarse starts
  };
  std::vector<FineRange> fine_;
  size_t coarse_count_ = 0;
  // By the address's first kIndexBits bits: the range holding the first address with
  // them. A query searches only between two neighbouring entries, a few ranges instead
  // of millions, and so touches a few cache lines instead of twenty.
  static constexpr unsigned kIndexBits = 16;
  std::vector<uint32_t> first_range_;
  std::vector<RankedMirror> entries_;
  std::vector<RankingRef> rankings_;
};

// How big a map is, for logs and metrics; summed over the maps it is made of.
struct MapFigures {
  size_t ranges = 0;         // fine ranges: one ranking each
  size_t coarse_ranges = 0;  // runs of them that share their first places
  size_t rankings = 0;       // distinct rankings, each stored once
  size_t bytes = 0;          // memory used
  MapFigures& operator+=(const MapFigures& other);
};

// A service's maps: by the family of the client's address (where it is) and by the
// family of the answer (which mirrors can be answered: those with such addresses).
struct ServiceMap {
  std::vector<FamilyMap> maps;  // [client V4/V6][answer V4/V6], flattened
  MapFigures figures() const;
  const FamilyMap& find(Family client, Family answer) const {
    return maps[(client == Family::V4 ? 0 : 2) + (answer == Family::V4 ? 0 : 1)];
  }
};

struct CompileOptions {
  // How many leading mirrors of a ranking a coarse range shares; 0: the service's
  // `answers`. Coarse ranges give the scope of every answer that came from those
  // places (all of them, while the nearest mirrors are healthy), so the fewer places
  // they must agree on, the wider the scopes. `answers` is the fewest that still
  // decide a healthy answer. Measured on DB-IP Lite City, 8 mirrors, answers 2, 1000
  // random located /24s (bench/map_stats): mean scope /15.5 with `answers`, /17.2
  // when ranges must agree on the whole ranking, the same mirror chosen either way.
  // A larger depth is only for such measurements.
  unsigned coarse_depth = 0;
};

// Everything steering needs that does not change with health, compiled once per
// configuration (and GeoIP) load, off the query threads.
struct SteeringMap {
  std::vector<Mirror> mirrors;
  std::vector<ServiceSpec> services;
  std::shared_ptr<const GeoIp> geoip;
  std::vector<ServiceMap> maps;  // by service
  // By mirror index: a hash of its id, stable across reloads and reorderings, which
  // the weighted spread draws with.
  std::vector<uint64_t> mirror_keys;

  // Throws std::invalid_argument for an inconsistent service, GeoIpError for a
  // database that cannot be walked.
  static std::shared_ptr<const SteeringMap> compile(std::vector<Mirror> mirrors,
                                                    std::vector<ServiceSpec> services,
                                                    std::shared_ptr<const GeoIp> geoip,
                                                    CompileOptions options = {});
};

}  // namespace geosteer::steering
