// Partitions of an address space: the ranges the steering map is compiled into, the
// longest-prefix match of override networks, and the widest prefix a range vouches for.
#include "steering/partition.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/steering/fixtures.h"

namespace geosteer::steering {
namespace {

using testing::ip;
using testing::prefix;

Address128 v4(const char* text) { return to_number(ip(text)); }
Address128 v6(const char* text) { return to_number(ip(text)); }

std::vector<std::pair<std::string, uint32_t>> ranges(const Partition& p) {
  std::vector<std::pair<std::string, uint32_t>> out;
  for (size_t i = 0; i < p.size(); ++i) {
    out.emplace_back(to_address(p.start(i), p.family()).to_string(), p.value(i));
  }
  return out;
}

using Ranges = std::vector<std::pair<std::string, uint32_t>>;

TEST(AddressNumbers, RoundTripBothFamilies) {
  EXPECT_EQ(to_address(v4("192.0.2.1"), Family::V4), ip("192.0.2.1"));
  EXPECT_EQ(to_address(v6("2001:db8::1"), Family::V6), ip("2001:db8::1"));
  EXPECT_EQ(v4("0.0.1.2"), Address128{258});
}

TEST(AddressNumbers, PrefixEndCoversTheWholeFamilyAtLengthZero) {
  EXPECT_EQ(prefix_end(0, 0, 32), last_address(Family::V4));
  EXPECT_EQ(prefix_end(0, 0, 128), last_address(Family::V6));
  EXPECT_EQ(prefix_end(v4("10.0.0.0"), 8, 32), v4("10.255.255.255"));
  EXPECT_EQ(prefix_end(v4("10.1.2.3"), 32, 32), v4("10.1.2.3"));
}

TEST(WidestPrefixWithin, AWholeFamilyRangeIsPrefixZero) {
  EXPECT_EQ(widest_prefix_within(v4("1.2.3.4"), 0, last_address(Family::V4), 32), 0u);
  EXPECT_EQ(widest_prefix_within(v6("2001:db8::1"), 0, last_address(Family::V6), 128), 0u);
}

TEST(WidestPrefixWithin, ARangeThatIsOneNetworkGivesItsPrefix) {
  EXPECT_EQ(widest_prefix_within(v4("10.1.2.3"), v4("10.0.0.0"), v4("10.255.255.255"), 32), 8u);
}

// 10.0.0.0 - 10.2.255.255 is not a network: 10.0.0.0/15 fits inside, 10.2.0.0/16
// is the widest around an address in its last part.
TEST(WidestPrefixWithin, ARangeOfSeveralNetworksGivesTheOneHoldingTheAddress) {
  Address128 first = v4("10.0.0.0"), last = v4("10.2.255.255");
  EXPECT_EQ(widest_prefix_within(v4("10.1.9.9"), first, last, 32), 15u);
  EXPECT_EQ(widest_prefix_within(v4("10.2.9.9"), first, last, 32), 16u);
}

TEST(WidestPrefixWithin, ASingleAddressRangeIsAHostPrefix) {
  EXPECT_EQ(widest_prefix_within(v4("10.0.0.7"), v4("10.0.0.7"), v4("10.0.0.7"), 32), 32u);
  EXPECT_EQ(widest_prefix_within(v6("::7"), v6("::7"), v6("::7"), 128), 128u);
}

TEST(WidestPrefixWithin, RangesAtTheTopOfTheSpaceNeedNoAddressAfterThem) {
  EXPECT_EQ(widest_prefix_within(v4("255.1.1.1"), v4("128.0.0.0"), last_address(Family::V4), 32), 1u);
  EXPECT_EQ(widest_prefix_within(v6("ffff::1"), v6("8000::"), last_address(Family::V6), 128), 1u);
}

TEST(PartitionAppend, NeighboursWithTheSameValueAreOneRange) {
  Partition p(Family::V4);
  p.append(0, 1);
  p.append(v4("10.0.0.0"), 1);
  p.append(v4("11.0.0.0"), 2);
  EXPECT_EQ(ranges(p), (Ranges{{"0.0.0.0", 1}, {"11.0.0.0", 2}}));
}

TEST(PartitionAppend, ARangeAtTheSameStartReplacesThePrevious) {
  Partition p(Family::V4);
  p.append(0, 1);
  p.append(v4("10.0.0.0"), 2);
  p.append(v4("10.0.0.0"), 3);
  EXPECT_EQ(ranges(p), (Ranges{{"0.0.0.0", 1}, {"10.0.0.0", 3}}));
}

TEST(PartitionFind, FindsTheRangeHoldingAnAddressAndItsEnd) {
  Partition p(Family::V4);
  p.append(0, 1);
  p.append(v4("10.0.0.0"), 2);
  EXPECT_EQ(p.find(v4("9.255.255.255")), 0u);
  EXPECT_EQ(p.find(v4("10.0.0.0")), 1u);
  EXPECT_EQ(p.end(0), v4("9.255.255.255"));
  EXPECT_EQ(p.end(1), last_address(Family::V4));
}

TEST(Refine, CombinesEveryPairOfOverlappingRanges) {
  Partition a(Family::V4), b(Family::V4);
  a.append(0, 1);
  a.append(v4("10.0.0.0"), 2);
  b.append(0, 10);
  b.append(v4("8.0.0.0"), 20);
  b.append(v4("10.0.0.0"), 30);
  b.append(v4("12.0.0.0"), 40);
  Partition both = refine(a, b, [](uint32_t x, uint32_t y) { return x * 100 + y; });
  EXPECT_EQ(ranges(both), (Ranges{{"0.0.0.0", 110}, {"8.0.0.0", 120}, {"10.0.0.0", 230}, {"12.0.0.0", 240}}));
}

TEST(Refine, EqualCombinedNeighboursMerge) {
  Partition a(Family::V4), b(Family::V4);
  a.append(0, 0);
  a.append(v4("10.0.0.0"), 7);
  b.append(0, 7);
  b.append(v4("10.0.0.0"), 0);
  Partition first = refine(a, b, [](uint32_t x, uint32_t y) { return x != 0 ? x : y; });
  EXPECT_EQ(ranges(first), (Ranges{{"0.0.0.0", 7}}));
}

TEST(LongestMatchPartition, NoNetworksIsOneRangeOfNone) {
  EXPECT_EQ(ranges(longest_match_partition({}, Family::V4)), (Ranges{{"0.0.0.0", 0}}));
}

TEST(LongestMatchPartition, NestedNetworksResumeTheOuterOneAfterTheInner) {
  std::vector<IpPrefix> networks{prefix("10.0.0.0/8"), prefix("10.1.0.0/16")};
  EXPECT_EQ(ranges(longest_match_partition(networks, Family::V4)),
            (Ranges{{"0.0.0.0", 0}, {"10.0.0.0", 1}, {"10.1.0.0", 2}, {"10.2.0.0", 1}, {"11.0.0.0", 0}}));
}

TEST(LongestMatchPartition, OrderInTheListDoesNotMatterOnlyLength) {
  std::vector<IpPrefix> networks{prefix("10.1.0.0/16"), prefix("10.0.0.0/8")};
  EXPECT_EQ(ranges(longest_match_partition(networks, Family::V4)),
            (Ranges{{"0.0.0.0", 0}, {"10.0.0.0", 2}, {"10.1.0.0", 1}, {"10.2.0.0", 2}, {"11.0.0.0", 0}}));
}

TEST(LongestMatchPartition, OfTwoEqualNetworksTheFirstCounts) {
  std::vector<IpPrefix> networks{prefix("10.0.0.0/8"), prefix("10.0.0.0/8")};
  EXPECT_EQ(ranges(longest_match_partition(networks, Family::V4)),
            (Ranges{{"0.0.0.0", 0}, {"10.0.0.0", 1}, {"11.0.0.0", 0}}));
}

TEST(LongestMatchPartition, NetworksOfTheOtherFamilyAreLeftOut) {
  std::vector<IpPrefix> networks{prefix("2001:db8::/32"), prefix("10.0.0.0/8")};
  EXPECT_EQ(ranges(longest_match_partition(networks, Family::V4)),
            (Ranges{{"0.0.0.0", 0}, {"10.0.0.0", 2}, {"11.0.0.0", 0}}));
}

TEST(LongestMatchPartition, NetworksReachingTheEndOfTheSpaceCloseCleanly) {
  std::vector<IpPrefix> networks{prefix("128.0.0.0/1"), prefix("255.255.255.0/24"), prefix("0.0.0.0/0")};
  EXPECT_EQ(ranges(longest_match_partition(networks, Family::V4)),
            (Ranges{{"0.0.0.0", 3}, {"128.0.0.0", 1}, {"255.255.255.0", 2}}));
}

TEST(LongestMatchPartition, AdjacentSiblingsFollowEachOther) {
  std::vector<IpPrefix> networks{prefix("2001:db8::/33"), prefix("2001:db8:8000::/33")};
  EXPECT_EQ(ranges(longest_match_partition(networks, Family::V6)),
            (Ranges{{"::", 0}, {"2001:db8::", 1}, {"2001:db8:8000::", 2}, {"2001:db9::", 0}}));
}

}  // namespace
}  // namespace geosteer::steering
