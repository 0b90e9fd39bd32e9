// Steering by network in the configuration: a mirror's home (`networks`, `asns`),
// its `weight`, and a service's `overrides.asns`, `spread_km`, `failover_km` and
// `failover_ttl`: defaults, values, and errors that name file:line:column.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/zones/config_helpers.h"
#include "zones/config.h"

namespace geosteer::zones {
namespace {

using testing::only_error;

// The mirror is the flow mapping on line 8, from column 5; the service is on line 13.
std::string config(const std::string& mirror_tail, const std::string& service_tail = "") {
  return "geoip: {databases: [city.mmdb, asn.mmdb]}\n"
         "zones:\n"
         "  - origin: example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "    services:\n"
         "      - {name: substitutes, mirrors: [fcix, berlin]" + service_tail + "}\n"
         "mirrors:\n"
         "  - {id: fcix, url: \"https://fcix.example/\", ipv4: [192.0.2.1]" + mirror_tail + "}\n"
         "  - {id: berlin, url: \"https://berlin.example/\", ipv4: [192.0.2.2]}\n";
}

const MirrorConfig& fcix(const Config& c) { return c.mirrors.at(0); }
const Service& substitutes(const Config& c) { return c.zones.at(0).services.at(0); }

TEST(ConfigMirrorHome, NetworksAndAsnsAreRead) {
  Config c = parse_config_text(config(", networks: [198.51.100.0/24, \"2001:db8::/32\"], asns: [6939, AS64500]"), "test.yaml");
  ASSERT_EQ(fcix(c).networks.size(), 2u);
  EXPECT_EQ(fcix(c).networks[0].to_string(), "198.51.100.0/24");
  EXPECT_EQ(fcix(c).asns, (std::vector<uint32_t>{6939, 64500}));
}

TEST(ConfigMirrorHome, IsEmptyByDefault) {
  Config c = parse_config_text(config(""), "test.yaml");
  EXPECT_TRUE(fcix(c).networks.empty());
  EXPECT_TRUE(fcix(c).asns.empty());
}

TEST(ConfigMirrorHome, NetworkWithHostBitsSuggestsItsPrefix) {
  EXPECT_EQ(only_error(config(", networks: [198.51.100.1/24]")),
            "test.yaml:9:76: error: network '198.51.100.1/24' has bits set past its prefix length "
            "(did you mean 198.51.100.0/24?)");
}

TEST(ConfigMirrorHome, AsNumberMustBeOne) {
  EXPECT_EQ(only_error(config(", asns: [HE]")),
            "test.yaml:9:72: error: invalid AS number 'HE' in 'asns' "
            "(write it as 6939 or AS6939, between 1 and 4294967294)");
}

TEST(ConfigMirrorHome, ReservedAsZeroIsRefused) {
  EXPECT_NE(only_error(config(", asns: [0]")).find("9:72: error: invalid AS number '0'"), std::string::npos);
}

TEST(ConfigMirrorHome, AsListedTwiceIsAnError) {
  EXPECT_EQ(only_error(config(", asns: [6939, AS6939]")),
            "test.yaml:9:78: error: AS6939 is listed twice in 'asns'");
}

TEST(ConfigMirrorHome, Ipv4MappedNetworkIsRefusedWithItsIpv4Form) {
  EXPECT_NE(only_error(config(", networks: [\"::ffff:130.149.0.0/112\"]")).find(
                "error: network '::ffff:130.149.0.0/112' is IPv4-mapped: clients there are steered as IPv4 "
                "(write 130.149.0.0/16)"),
            std::string::npos);
}

TEST(ConfigMirrorWeight, IsAHundredByDefault) {
  EXPECT_EQ(fcix(parse_config_text(config(""), "test.yaml")).weight, 100u);
}

TEST(ConfigMirrorWeight, ZeroMakesALastResort) {
  EXPECT_EQ(fcix(parse_config_text(config(", weight: 0"), "test.yaml")).weight, 0u);
}

TEST(ConfigMirrorWeight, NegativeIsAnError) {
  EXPECT_NE(only_error(config(", weight: -5")).find("test.yaml:9:73: error:"), std::string::npos);
}

TEST(ConfigAsnOverrides, MapAsNumbersToMirrors) {
  Config c = parse_config_text(config("", ", overrides: {asns: {6939: [fcix], AS680: [berlin, fcix]}}"), "test.yaml");
  const auto& asns = substitutes(c).overrides.asns;
  ASSERT_EQ(asns.size(), 2u);
  EXPECT_EQ(asns[0].first, 6939u);
  EXPECT_EQ(asns[0].second, std::vector<std::string>{"fcix"});
  EXPECT_EQ(asns[1].first, 680u);
  EXPECT_EQ(asns[1].second, (std::vector<std::string>{"berlin", "fcix"}));
}

TEST(ConfigAsnOverrides, SameAsWrittenTwoWaysIsAnError) {
  EXPECT_EQ(only_error(config("", ", overrides: {asns: {6939: [fcix], AS6939: [berlin]}}")),
            "test.yaml:7:87: error: AS6939 is listed twice in 'asns' (merge its mirrors into one entry)");
}

TEST(ConfigAsnOverrides, UnknownMirrorSuggestsTheNearestName) {
  EXPECT_EQ(only_error(config("", ", overrides: {asns: {6939: [fcx]}}")),
            "test.yaml:7:80: error: unknown mirror 'fcx' in the override for 6939 (did you mean 'fcix'?)");
}

TEST(ConfigAsnOverrides, EmptyListIsAnError) {
  EXPECT_NE(only_error(config("", ", overrides: {asns: {680: []}}")).find("the override for 680 lists no mirror"),
            std::string::npos);
}

TEST(ConfigSpreadAndFailover, SpreadWiderThanFailoverIsAnError) {
  EXPECT_NE(only_error(config("", ", spread_km: 800, failover_km: 500")).find(
                "error: spread_km is larger than failover_km (keep spread_km at most failover_km)"),
            std::string::npos);
}

TEST(ConfigSpreadAndFailover, AreOffByDefault) {
  Config c = parse_config_text(config(""), "test.yaml");
  const Service& s = substitutes(c);
  EXPECT_EQ(s.spread_km, 0);
  EXPECT_EQ(s.failover_km, 0);
  EXPECT_EQ(s.failover_ttl, 30u);
}

TEST(ConfigSpreadAndFailover, AreRead) {
  Config c = parse_config_text(config("", ", spread_km: 50, failover_km: 1500.5, failover_ttl: 10"), "test.yaml");
  const Service& s = substitutes(c);
  EXPECT_EQ(s.spread_km, 50);
  EXPECT_EQ(s.failover_km, 1500.5);
  EXPECT_EQ(s.failover_ttl, 10u);
}

TEST(ConfigSpreadAndFailover, DistanceBeyondHalfTheEarthIsAnError) {
  EXPECT_NE(only_error(config("", ", failover_km: 40000")).find("test.yaml:7:67: error:"), std::string::npos);
}

}  // namespace
}  // namespace geosteer::zones
