#include "steering/geoip.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/steering/fixtures.h"

namespace geosteer::steering {
namespace {

using testing::fixture;
using testing::ip;
using testing::prefix;

std::shared_ptr<const GeoIp> open_fixtures(std::initializer_list<const char*> names) {
  std::vector<std::string> paths;
  for (const char* name : names) paths.push_back(fixture(name));
  return GeoIp::open(paths);
}

// The float-typed coordinates of DB-IP records are exact to about 1e-6 degrees.
constexpr double kFloatDegrees = 1e-4;

TEST(GeoIpFlatIpv4, BerlinRecordHasCountryCoordinatesAndNetwork) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb"});
  GeoResult r = geoip->lookup(ip("130.149.7.7"));
  EXPECT_STREQ(r.location.country, "DE");
  ASSERT_TRUE(r.location.coordinates.has_value());
  EXPECT_NEAR(r.location.coordinates->lat, 52.52, kFloatDegrees);
  EXPECT_NEAR(r.location.coordinates->lon, 13.40, kFloatDegrees);
  EXPECT_EQ(r.network, prefix("130.149.0.0/16"));
  EXPECT_EQ(r.database, 0);
}

TEST(GeoIpFlatIpv4, ContinentIsDerivedFromCountry) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb"});
  EXPECT_STREQ(geoip->lookup(ip("1.2.4.8")).location.continent, "AS");
  EXPECT_STREQ(geoip->lookup(ip("41.1.2.3")).location.continent, "AF");
  EXPECT_STREQ(geoip->lookup(ip("8.8.8.8")).location.continent, "NA");
}

TEST(GeoIpFlatIpv4, CountryOnlyRecordHasCountryButNoCoordinates) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb"});
  GeoResult r = geoip->lookup(ip("5.5.1.1"));
  EXPECT_STREQ(r.location.country, "FR");
  EXPECT_STREQ(r.location.continent, "EU");
  EXPECT_FALSE(r.location.coordinates.has_value());
  EXPECT_TRUE(r.location.known());
  EXPECT_EQ(r.network, prefix("5.5.0.0/16"));
}

TEST(GeoIpFlatIpv4, MissGivesTheEmptyNetworkAndNoLocation) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb"});
  GeoResult r = geoip->lookup(ip("100.64.1.1"));
  EXPECT_FALSE(r.location.known());
  EXPECT_STREQ(r.location.continent, "");
  // 64.0.0.0/2 holds no fixture network (`mmdblookup` reports prefix length 2).
  EXPECT_EQ(r.network, prefix("64.0.0.0/2"));
  EXPECT_EQ(r.database, 0);
}

TEST(GeoIpFlatIpv6, TokyoRecordHasCountryCoordinatesAndNetwork) {
  auto geoip = open_fixtures({"flat-ipv6.mmdb"});
  GeoResult r = geoip->lookup(ip("2001:200:1::5"));
  EXPECT_STREQ(r.location.country, "JP");
  EXPECT_STREQ(r.location.continent, "AS");
  ASSERT_TRUE(r.location.coordinates.has_value());
  EXPECT_NEAR(r.location.coordinates->lat, 35.68, kFloatDegrees);
  EXPECT_NEAR(r.location.coordinates->lon, 139.69, kFloatDegrees);
  EXPECT_EQ(r.network, prefix("2001:200::/32"));
}

TEST(GeoIpFlatIpv6, Ipv4AddressInIpv6TreeWithoutIpv4DataIsOneEmptyNetwork) {
  auto geoip = open_fixtures({"flat-ipv6.mmdb"});
  GeoResult r = geoip->lookup(ip("130.149.7.7"));
  EXPECT_FALSE(r.location.known());
  EXPECT_EQ(r.network, prefix("0.0.0.0/0"));
  EXPECT_EQ(r.database, 0);
}

TEST(GeoIpNested, Ipv4RecordHasContinentFromRecordAndIpv4Network) {
  auto geoip = open_fixtures({"nested-city.mmdb"});
  GeoResult r = geoip->lookup(ip("41.2.3.4"));
  EXPECT_STREQ(r.location.country, "ZA");
  EXPECT_STREQ(r.location.continent, "AF");
  ASSERT_TRUE(r.location.coordinates.has_value());
  EXPECT_DOUBLE_EQ(r.location.coordinates->lat, -26.20);
  EXPECT_DOUBLE_EQ(r.location.coordinates->lon, 28.04);
  // libmaxminddb reports 107 bits for ::41.0.0.0/107; the result is in IPv4 bits.
  EXPECT_EQ(r.network, prefix("41.0.0.0/11"));
}

TEST(GeoIpNested, Ipv6RecordHasContinentFromRecord) {
  auto geoip = open_fixtures({"nested-city.mmdb"});
  GeoResult r = geoip->lookup(ip("2001:638:1::1"));
  EXPECT_STREQ(r.location.country, "DE");
  EXPECT_STREQ(r.location.continent, "EU");
  ASSERT_TRUE(r.location.coordinates.has_value());
  EXPECT_DOUBLE_EQ(r.location.coordinates->lat, 52.52);
  EXPECT_EQ(r.network, prefix("2001:638::/32"));
}

TEST(GeoIpNested, Ipv4MissGivesIpv4EmptyNetwork) {
  auto geoip = open_fixtures({"nested-city.mmdb"});
  GeoResult r = geoip->lookup(ip("100.64.1.1"));
  EXPECT_FALSE(r.location.known());
  EXPECT_EQ(r.network.address.family, Family::V4);
  EXPECT_TRUE(r.network.contains(ip("100.64.1.1")));
  EXPECT_FALSE(r.network.contains(ip("130.149.0.1")));
}

TEST(GeoIpSeveralDatabases, Ipv6AddressSkipsIpv4OnlyDatabase) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb", "flat-ipv6.mmdb"});
  GeoResult r = geoip->lookup(ip("2804:14c::1"));
  EXPECT_STREQ(r.location.country, "BR");
  EXPECT_EQ(r.database, 1);
}

TEST(GeoIpSeveralDatabases, NoDatabaseCoveringTheFamilyGivesMinusOneAndEmptyPrefix) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb"});
  GeoResult r = geoip->lookup(ip("2001:638::1"));
  EXPECT_EQ(r.database, -1);
  EXPECT_EQ(r.network, prefix("::/0"));
  EXPECT_FALSE(r.location.known());
}

TEST(GeoIpSeveralDatabases, FirstDatabaseWithARecordWins) {
  auto geoip = open_fixtures({"nested-city.mmdb", "flat-ipv4.mmdb"});
  GeoResult berlin = geoip->lookup(ip("130.149.7.7"));
  EXPECT_EQ(berlin.database, 0);
  GeoResult sao_paulo = geoip->lookup(ip("143.107.1.1"));  // only in the flat database
  EXPECT_EQ(sao_paulo.database, 1);
  EXPECT_STREQ(sao_paulo.location.country, "BR");
  EXPECT_EQ(sao_paulo.network, prefix("143.107.0.0/16"));
}

TEST(GeoIpOpen, FillsDatabaseInfoFromMetadata) {
  auto geoip = open_fixtures({"flat-ipv4.mmdb", "nested-city.mmdb"});
  ASSERT_EQ(geoip->databases().size(), 2u);
  const DatabaseInfo& flat = geoip->databases()[0];
  EXPECT_EQ(flat.path, fixture("flat-ipv4.mmdb"));
  EXPECT_EQ(flat.type, "DBIP-City-Lite-IPv4-Fixture");
  EXPECT_EQ(flat.ip_version, 4u);
  EXPECT_EQ(flat.build_epoch, 1767225600u);  // fixed by the fixture generator
  EXPECT_EQ(geoip->databases()[1].type, "GeoLite2-City");
  EXPECT_EQ(geoip->databases()[1].ip_version, 6u);
}

TEST(GeoIpOpen, MissingFileThrowsNamingPathAndIndex) {
  std::string missing = fixture("no-such-database.mmdb");
  try {
    GeoIp::open({fixture("flat-ipv4.mmdb"), missing});
    FAIL() << "no exception";
  } catch (const GeoIpError& e) {
    EXPECT_EQ(e.database_index, 1u);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

TEST(GeoIpOpen, NonMmdbFileThrowsNamingPath) {
  std::string path = ::testing::TempDir() + "/geosteer-not-an-mmdb.txt";
  std::ofstream(path) << "this is not a MaxMind database\n";
  try {
    GeoIp::open({path});
    FAIL() << "no exception";
  } catch (const GeoIpError& e) {
    EXPECT_EQ(e.database_index, 0u);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

// The first search node of a fixture (28-bit records: 7 octets) pointed back at
// itself on both sides: lookups still end (libmaxminddb stops at the address's
// length), but the tree holds no network, and the steering map walk must say so.
TEST(GeoIpPartition, TreeWhoseBranchesLoopIsRefusedNamingTheFile) {
  std::ifstream in(fixture("flat-ipv4.mmdb"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 7u);
  std::fill(bytes.begin(), bytes.begin() + 7, '\0');
  std::string path = ::testing::TempDir() + "/geosteer-looping-tree.mmdb";
  std::ofstream(path, std::ios::binary) << bytes;
  auto geoip = GeoIp::open({path});
  try {
    geoip->partition(Family::V4);
    FAIL() << "no exception";
  } catch (const GeoIpError& e) {
    EXPECT_EQ(e.database_index, 0u);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(GeoIpPartition, EveryLookedUpAddressHasTheLocationLookupFinds) {
  auto geoip = GeoIp::open({fixture("nested-city.mmdb"), fixture("flat-ipv4.mmdb")});
  LocatedPartition v4 = geoip->partition(Family::V4);
  for (const char* text : {"130.149.7.7", "8.8.8.8", "1.2.4.9", "5.5.5.5", "41.1.1.1", "100.64.0.1"}) {
    Location walked = v4.locations[v4.partition.value(v4.partition.find(to_number(ip(text))))];
    Location looked_up = geoip->lookup(ip(text)).location;
    EXPECT_STREQ(walked.country, looked_up.country) << text;
    EXPECT_STREQ(walked.continent, looked_up.continent) << text;
    EXPECT_EQ(walked.coordinates.has_value(), looked_up.coordinates.has_value()) << text;
  }
}

TEST(Countries, ContinentsFollowGeoNames) {
  EXPECT_STREQ(continent_of_country("RU"), "EU");
  EXPECT_STREQ(continent_of_country("TR"), "AS");
  EXPECT_STREQ(continent_of_country("EG"), "AF");
  EXPECT_STREQ(continent_of_country("MX"), "NA");
  EXPECT_STREQ(continent_of_country("PA"), "NA");
  EXPECT_STREQ(continent_of_country("AU"), "OC");
  EXPECT_STREQ(continent_of_country("AQ"), "AN");
  EXPECT_STREQ(continent_of_country("BR"), "SA");
  EXPECT_STREQ(continent_of_country("XK"), "EU");
}

TEST(Countries, UnknownCodesHaveNoContinent) {
  EXPECT_STREQ(continent_of_country("ZZ"), "");
  EXPECT_STREQ(continent_of_country("de"), "");
  EXPECT_STREQ(continent_of_country("DEU"), "");
  EXPECT_STREQ(continent_of_country(""), "");
  EXPECT_FALSE(is_known_country("UK"));  // reserved; the United Kingdom is GB
  EXPECT_TRUE(is_known_country("GB"));
}

TEST(Countries, TableHoldsEveryIso3166CodeAndKosovo) {
  // 249 ISO 3166-1 alpha-2 codes plus XK. Counting through the public lookup also
  // proves the table is searchable from end to end.
  int known = 0;
  char code[3] = {};
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      code[0] = a;
      code[1] = b;
      if (!is_known_country(code)) continue;
      ++known;
      EXPECT_TRUE(is_known_continent(continent_of_country(code))) << code;
    }
  }
  EXPECT_EQ(known, 250);
}

TEST(Countries, SevenContinentCodesAreKnown) {
  for (const char* c : {"AF", "AN", "AS", "EU", "NA", "OC", "SA"}) {
    EXPECT_TRUE(is_known_continent(c)) << c;
  }
  EXPECT_FALSE(is_known_continent("EA"));
  EXPECT_FALSE(is_known_continent(""));
}

}  // namespace
}  // namespace geosteer::steering
