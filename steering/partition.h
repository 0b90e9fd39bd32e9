// Partitions of an address family's space into consecutive ranges, each with a value:
// the form in which the steering map is compiled. Internal to steering/.
//
// Addresses are unsigned integers of the family's width (IPv4 in the low 32 bits of
// the same 128-bit type), so "the next address" and "the ranges between" are plain
// arithmetic. A partition always starts at address 0 and covers the whole family.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/ip.h"

namespace geosteer::steering {

__extension__ typedef unsigned __int128 Address128;  // __extension__: no -Wpedantic warning

Address128 to_number(const IpAddress& address);
IpAddress to_address(Address128 number, Family family);
unsigned family_bits(Family family);
// The last address of the family: 2^32 - 1 or 2^128 - 1.
Address128 last_address(Family family);
// The last address of prefix/length.
Address128 prefix_end(Address128 start, unsigned length, unsigned bits);

// Leading bits two addresses of a `bits`-wide family share.
unsigned shared_bits(Address128 a, Address128 b, unsigned bits);

// The shortest prefix of `address` whose every address lies within [first, last]
// (which holds `address`): the widest network around it that the range vouches for.
// An ECS scope built on it tells a resolver exactly how far the answer extends.
unsigned widest_prefix_within(Address128 address, Address128 first, Address128 last,
                              unsigned bits);

// Ranges in address order: range i spans from its start to the next one's start
// minus one, the last one to the end of the family. Starts and values are kept
// apart (20 octets a range, not 32 with the padding of a struct): a GeoIP walk
// writes millions of them.
class Partition {
 public:
  explicit Partition(Family family) : family_(family) {}

  // Appends a range starting at `start` (not before the last one's). A range of the
  // same value as the previous one extends it; one at the same start replaces it.
  void append(Address128 start, uint32_t value);

  Family family() const { return family_; }
  size_t size() const { return values_.size(); }
  Address128 start(size_t i) const { return starts_[i]; }
  uint32_t value(size_t i) const { return values_[i]; }
  // The last address of range i.
  Address128 end(size_t i) const;
  // The index of the range holding `address`.
  size_t find(Address128 address) const;
  void reserve(size_t n) {
    starts_.reserve(n);
    values_.reserve(n);
  }

 private:
  Family family_;
  std::vector<Address128> starts_;
  std::vector<uint32_t> values_;
};

// Visits the common refinement of two partitions of the same family in address order:
// visit(start, value in a, value in b) for every range where neither changes.
template <typename Visit>
void sweep(const Partition& a, const Partition& b, Visit visit) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    Address128 start = a.start(i) > b.start(j) ? a.start(i) : b.start(j);
    visit(start, a.value(i), b.value(j));
    bool a_last = i + 1 == a.size(), b_last = j + 1 == b.size();
    if (a_last && b_last) break;
    // Step whichever partition's next boundary comes first (both when they coincide).
    if (b_last || (!a_last && a.start(i + 1) <= b.start(j + 1))) {
      if (!b_last && a.start(i + 1) == b.start(j + 1)) ++j;
      ++i;
    } else {
      ++j;
    }
  }
}

// Every address's pair of values as one partition, each range valued
// combine(value in a, value in b).
template <typename Combine>
Partition refine(const Partition& a, const Partition& b, Combine combine) {
  Partition out(a.family());
  out.reserve(a.size() + b.size());  // at most: growing would copy millions of ranges
  sweep(a, b, [&](Address128 start, uint32_t va, uint32_t vb) { out.append(start, combine(va, vb)); });
  return out;
}

// The longest-prefix match of every address over a set of networks of one family,
// as a partition whose values are 1 + the index of the matching network in
// `networks`, 0 where none matches. Of equal networks the first one counts.
Partition longest_match_partition(std::span<const IpPrefix> networks, Family family);

}  // namespace geosteer::steering
