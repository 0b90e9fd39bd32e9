#include "common/ip.h"

#include <gtest/gtest.h>

namespace geosteer {
namespace {

TEST(IpAddress, ParsesIpv4) {
  auto a = IpAddress::parse("192.0.2.10");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, Family::V4);
  EXPECT_EQ(a->to_string(), "192.0.2.10");
}

TEST(IpAddress, ParsesIpv6) {
  auto a = IpAddress::parse("2001:db8::1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, Family::V6);
  EXPECT_EQ(a->to_string(), "2001:db8::1");
}

TEST(IpAddress, RejectsGarbage) {
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse("192.0.2"));
  EXPECT_FALSE(IpAddress::parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::parse("2001:db8:::1"));
  EXPECT_FALSE(IpAddress::parse("example.org"));
}

TEST(IpAddress, MaskedClearsBitsPastLength) {
  EXPECT_EQ(IpAddress::parse("192.0.2.255")->masked(25).to_string(), "192.0.2.128");
  EXPECT_EQ(IpAddress::parse("2001:db8:ffff::1")->masked(36).to_string(), "2001:db8:f000::");
  EXPECT_EQ(IpAddress::parse("10.1.2.3")->masked(0).to_string(), "0.0.0.0");
}

TEST(IpPrefix, ParsesPrefixAndBareAddress) {
  auto p = IpPrefix::parse("203.0.113.0/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 24);
  EXPECT_EQ(IpPrefix::parse("2001:db8::1")->length, 128);
}

TEST(IpPrefix, RejectsLengthBeyondFamily) {
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("2001:db8::/129"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/2x"));
}

TEST(IpPrefix, ContainsOnlySameFamilyAddressesInside) {
  auto p = *IpPrefix::parse("203.0.113.0/24");
  EXPECT_TRUE(p.contains(*IpAddress::parse("203.0.113.77")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("203.0.114.1")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("::ffff:203.0.113.77")));
}

TEST(IpPrefix, HostBitsZeroDetectsSloppyNetworks) {
  EXPECT_TRUE(IpPrefix::parse("203.0.113.0/24")->host_bits_zero());
  EXPECT_FALSE(IpPrefix::parse("203.0.113.1/24")->host_bits_zero());
}

TEST(CommonPrefixLength, CountsSharedLeadingBits) {
  EXPECT_EQ(common_prefix_length(*IpAddress::parse("10.0.0.0"), *IpAddress::parse("10.0.0.128")), 24u);
  EXPECT_EQ(common_prefix_length(*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.1")), 32u);
  EXPECT_EQ(common_prefix_length(*IpAddress::parse("::"), *IpAddress::parse("8000::")), 0u);
}

}  // namespace
}  // namespace geosteer
