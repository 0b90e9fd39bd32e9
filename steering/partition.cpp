#include "steering/partition.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace geosteer::steering {
namespace {

unsigned leading_zeros(Address128 x) {
  auto high = static_cast<uint64_t>(x >> 64), low = static_cast<uint64_t>(x);
  return high != 0 ? std::countl_zero(high) : 64 + std::countl_zero(low);
}

}  // namespace

Address128 to_number(const IpAddress& address) {
  Address128 number = 0;
  for (unsigned i = 0; i < address.size(); ++i) number = (number << 8) | address.bytes[i];
  return number;
}

IpAddress to_address(Address128 number, Family family) {
  IpAddress address;
  address.family = family;
  unsigned size = family == Family::V4 ? 4 : 16;
  for (unsigned i = size; i-- > 0;) {
    address.bytes[i] = static_cast<uint8_t>(number);
    number >>= 8;
  }
  return address;
}

unsigned family_bits(Family family) { return family == Family::V4 ? 32 : 128; }

Address128 last_address(Family family) {
  return family == Family::V4 ? Address128{0xFFFFFFFFu} : ~Address128{0};
}

Address128 prefix_end(Address128 start, unsigned length, unsigned bits) {
  if (length >= bits) return start;
  if (bits - length == 128) return ~Address128{0};  // a shift by 128 is undefined
  return start | ((Address128{1} << (bits - length)) - 1);
}

unsigned shared_bits(Address128 a, Address128 b, unsigned bits) {
  if (a == b) return bits;
  return leading_zeros(a ^ b) - (128 - bits);
}

// A prefix of `address` lies within [first, last] exactly when it holds neither
// first - 1 nor last + 1 (it is contiguous and holds `address`, which is inside), and
// it holds an address exactly when its length is at most the bits they share.
unsigned widest_prefix_within(Address128 address, Address128 first, Address128 last,
                              unsigned bits) {
  assert(first <= address && address <= last);
  unsigned length = 0;
  if (first > 0) length = std::max(length, shared_bits(address, first - 1, bits) + 1);
  Address128 top = bits == 32 ? Address128{0xFFFFFFFFu} : ~Address128{0};
  if (last < top) length = std::max(length, shared_bits(address, last + 1, bits) + 1);
  return std::min(length, bits);
}

void Partition::append(Address128 start, uint32_t value) {
  assert(starts_.empty() ? start == 0 : start >= starts_.back());
  if (!starts_.empty() && starts_.back() == start) {
    starts_.pop_back();  // replaced by the range that starts at the same address
    values_.pop_back();
  }
  if (!values_.empty() && values_.back() == value) return;  // extends it
  starts_.push_back(start);
  values_.push_back(value);
}

Address128 Partition::end(size_t i) const {
  return i + 1 < starts_.size() ? starts_[i + 1] - 1 : last_address(family_);
}

size_t Partition::find(Address128 address) const {
  auto after = std::upper_bound(starts_.begin(), starts_.end(), address);
  return static_cast<size_t>(after - starts_.begin()) - 1;
}

// Networks either nest or are disjoint. Sorted by start, wider first, they are
// visited as a depth-first walk of their nesting: a stack of the networks that
// hold the current address, innermost on top, whose ends resume the outer ones.
Partition longest_match_partition(std::span<const IpPrefix> networks, Family family) {
  unsigned bits = family_bits(family);
  struct Network {
    Address128 start, end;
    uint8_t length;
    uint32_t value;
  };
  std::vector<Network> sorted;
  for (size_t i = 0; i < networks.size(); ++i) {
    const IpPrefix& n = networks[i];
    if (n.address.family != family) continue;
    Address128 start = to_number(n.address.masked(n.length));
    sorted.push_back({start, prefix_end(start, n.length, bits), n.length,
                      static_cast<uint32_t>(i + 1)});
  }
  // Of equal networks the first listed (the smaller value) comes first. std::sort, not
  // std::stable_sort: the value makes the order total, and stable_sort's temporary
  // buffer (operator new(nothrow)) trips ASan where tests count allocations.
  std::sort(sorted.begin(), sorted.end(), [](const Network& a, const Network& b) {
    if (a.start != b.start) return a.start < b.start;
    return a.length != b.length ? a.length < b.length : a.value < b.value;
  });

  Partition out(family);
  out.append(0, 0);
  std::vector<const Network*> open;
  // Closes the networks that end before `until`, resuming each one's parent.
  auto close_before = [&](Address128 until, bool all) {
    while (!open.empty() && (all || open.back()->end < until)) {
      Address128 end = open.back()->end;
      open.pop_back();
      if (end == last_address(family)) continue;  // nothing follows it
      out.append(end + 1, open.empty() ? 0 : open.back()->value);
    }
  };
  for (const Network& n : sorted) {
    close_before(n.start, false);
    if (!open.empty() && open.back()->start == n.start && open.back()->length == n.length) {
      continue;  // the same network again: the first one counts
    }
    out.append(n.start, n.value);
    open.push_back(&n);
  }
  close_before(0, true);
  return out;
}

}  // namespace geosteer::steering
