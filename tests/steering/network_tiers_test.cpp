// Steering by network (issue: peering matters as much as distance): ASN overrides,
// the home networks and ASes of mirrors inside ISPs, capacity weights and the
// failover range, each on its own and in their order. The property test in
// steering_map_test.cpp checks all of them together against a reference.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "steering/engine.h"
#include "tests/steering/fixtures.h"

namespace geosteer::steering {
namespace {

using testing::fixture;
using testing::ip;
using testing::prefix;

// The fixtures (tools/make-mmdb-fixtures.pl): 41.0.0.0/11 is Johannesburg, and in
// asn.mmdb its lower half 41.0.0.0/12 is AS64500, its upper half AS64501;
// 143.107.0.0/16 is São Paulo and AS6939; 130.149.0.0/16 is Berlin and AS680.
constexpr const char* kSouthIsp = "41.1.2.3";      // AS64500, Johannesburg
constexpr const char* kNorthIsp = "41.17.2.3";     // AS64501, Johannesburg
constexpr const char* kHurricane = "143.107.9.9";  // AS6939, São Paulo
constexpr const char* kDfn = "130.149.7.7";        // AS680, Berlin

Mirror mirror(const char* id, double lat, double lon, const char* ipv4) {
  Mirror m;
  m.id = id;
  m.location = {lat, lon};
  m.ipv4.push_back(ip(ipv4));
  m.ipv6.push_back(ip(std::string("::ffff:") + ipv4));
  return m;
}

enum : uint16_t { kJohannesburg, kCapeTown, kParis, kUsWest, kSaoPaulo };

std::vector<Mirror> mirrors() {
  return {mirror("johannesburg", -26.20, 28.04, "127.0.0.21"), mirror("cape-town", -33.92, 18.42, "127.0.0.22"),
          mirror("paris", 48.85, 2.35, "127.0.0.23"), mirror("us-west", 37.42, -122.08, "127.0.0.24"),
          mirror("sao-paulo", -23.55, -46.63, "127.0.0.25")};
}

ServiceSpec service(unsigned answers = 1) {
  ServiceSpec s;
  s.name = "substitutes.example.org.";
  s.mirrors = {kJohannesburg, kCapeTown, kParis, kUsWest, kSaoPaulo};
  s.answers = answers;
  return s;
}

std::shared_ptr<const GeoIp> geoip() {
  return GeoIp::open({fixture("flat-ipv4.mmdb"), fixture("flat-ipv6.mmdb"), fixture("asn.mmdb")});
}

Client client(const char* address, uint8_t source = 24) {
  IpAddress a = ip(address);
  return {a.masked(source), source, true};
}

Decision choose(const std::vector<Mirror>& ms, const ServiceSpec& s, const char* address) {
  Engine engine(ms, {s}, geoip(), nullptr);
  return engine.choose(0, Family::V4, client(address));
}

std::vector<uint16_t> chosen(const Decision& d) { return {d.chosen().begin(), d.chosen().end()}; }

TEST(NetworkTiers, AsnOverrideSendsTheAsClientsToItsMirrors) {
  ServiceSpec s = service();
  s.asn_overrides = {{6939, {kUsWest}}};
  Decision d = choose(mirrors(), s, kHurricane);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kUsWest});
  EXPECT_EQ(d.reason, Reason::AsnOverride);
}

TEST(NetworkTiers, AsnOverrideLeavesOtherAsesToDistance) {
  ServiceSpec s = service();
  s.asn_overrides = {{6939, {kUsWest}}};
  Decision d = choose(mirrors(), s, kDfn);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kParis});
  EXPECT_EQ(d.reason, Reason::Distance);
}

TEST(NetworkTiers, ClientInAMirrorsHomeAsGetsItEvenWhenAnotherIsNearer) {
  std::vector<Mirror> ms = mirrors();
  ms[kParis].asns = {64500};
  Decision d = choose(ms, service(), kSouthIsp);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kParis});
  EXPECT_EQ(d.reason, Reason::HomeAsn);
}

TEST(NetworkTiers, ClientOutsideTheHomeAsGetsTheNearest) {
  std::vector<Mirror> ms = mirrors();
  ms[kParis].asns = {64500};
  Decision d = choose(ms, service(), kNorthIsp);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kJohannesburg});
  EXPECT_EQ(d.reason, Reason::Distance);
}

TEST(NetworkTiers, ClientInAMirrorsHomeNetworkGetsItEvenWhenAnotherIsNearer) {
  std::vector<Mirror> ms = mirrors();
  ms[kUsWest].networks = {prefix("41.17.0.0/16")};
  Decision d = choose(ms, service(), kNorthIsp);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kUsWest});
  EXPECT_EQ(d.reason, Reason::HomeNetwork);
  EXPECT_EQ(chosen(choose(ms, service(), "41.18.0.1")), std::vector<uint16_t>{kJohannesburg});
}

TEST(NetworkTiers, HomeMirrorsComeNearestFirstThenTheRestByDistance) {
  std::vector<Mirror> ms = mirrors();
  ms[kUsWest].asns = {64500};
  ms[kParis].networks = {prefix("41.0.0.0/12")};
  Decision d = choose(ms, service(3), kSouthIsp);
  EXPECT_EQ(chosen(d), (std::vector<uint16_t>{kParis, kUsWest, kJohannesburg}));
}

TEST(NetworkTiers, NetworkOverrideComesBeforeAsnOverride) {
  ServiceSpec s = service();
  s.asn_overrides = {{6939, {kUsWest}}};
  s.network_overrides = {{prefix("143.107.9.0/24"), {kParis}}};
  EXPECT_EQ(chosen(choose(mirrors(), s, kHurricane)), std::vector<uint16_t>{kParis});
}

TEST(NetworkTiers, AsnOverrideComesBeforeHomeNetworks) {
  std::vector<Mirror> ms = mirrors();
  ms[kParis].networks = {prefix("143.107.0.0/16")};
  ServiceSpec s = service();
  s.asn_overrides = {{6939, {kUsWest}}};
  EXPECT_EQ(chosen(choose(ms, s, kHurricane)), std::vector<uint16_t>{kUsWest});
}

TEST(NetworkTiers, HomeNetworksComeBeforeCountryOverrides) {
  std::vector<Mirror> ms = mirrors();
  ms[kUsWest].asns = {6939};
  ServiceSpec s = service();
  s.country_overrides = {{"BR", {kParis}}};
  Decision d = choose(ms, s, kHurricane);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kUsWest});
  EXPECT_EQ(d.reason, Reason::HomeAsn);
}

TEST(NetworkTiers, ScopeStopsAtAnAsBoundaryThatChangesTheAnswer) {
  std::vector<Mirror> ms = mirrors();
  ms[kParis].asns = {64500};
  // Johannesburg is one /11 in the city data; AS64500 is its lower /12.
  EXPECT_GE(choose(ms, service(), kSouthIsp).scope_prefix, 12);
  EXPECT_GE(choose(ms, service(), kNorthIsp).scope_prefix, 12);
}

TEST(NetworkTiers, AsBoundariesNobodyNamesLeaveScopesWide) {
  // The same data, no AS named: the whole /11 gets one answer and one scope.
  EXPECT_LE(choose(mirrors(), service(), kSouthIsp).scope_prefix, 11);
}

TEST(NetworkTiers, MirrorOfWeightZeroIsAnsweredOnlyWhenNoOtherIsLeft) {
  std::vector<Mirror> ms = mirrors();
  ms[kJohannesburg].weight = 0;
  Engine engine(ms, {service(5)}, geoip(), nullptr);
  Decision all_up = engine.choose(0, Family::V4, client(kSouthIsp));
  EXPECT_EQ(all_up.mirrors[0], kCapeTown);
  EXPECT_EQ(all_up.chosen().back(), kJohannesburg);

  auto state = healthcheck::HealthState::all_up(ms.size());
  for (size_t m = 0; m < ms.size(); ++m) {
    if (m != kJohannesburg) state.mirrors[m].verdict = healthcheck::Verdict::Down;
  }
  Engine others_down(ms, {service(1)}, geoip(), std::make_shared<const healthcheck::HealthState>(state));
  EXPECT_EQ(chosen(others_down.choose(0, Family::V4, client(kSouthIsp))), std::vector<uint16_t>{kJohannesburg});
}

// --- capacity weights -------------------------------------------------------------

// Two mirrors in Johannesburg, 10 km apart, weights 100 and 25.
std::vector<Mirror> shared_city() {
  std::vector<Mirror> ms = mirrors();
  ms[kCapeTown].location = {-26.15, 28.10};
  ms[kJohannesburg].weight = 100;
  ms[kCapeTown].weight = 25;
  return ms;
}

ServiceSpec spread(unsigned answers = 1) {
  ServiceSpec s = service(answers);
  s.spread_km = 50;
  return s;
}

// Random networks of `length` bits inside `within`.
std::vector<IpAddress> random_networks(const IpPrefix& within, unsigned length, int count) {
  std::mt19937_64 random(7);
  unsigned bits = family_bits(within.address.family);
  Address128 first = to_number(within.address), span = prefix_end(first, within.length, bits) - first;
  std::vector<IpAddress> out;
  for (int i = 0; i < count; ++i) {
    Address128 x = Address128{random()} << 64 | random();
    out.push_back(to_address(first + (x & span), within.address.family).masked(length));
  }
  return out;
}

// The share of networks whose first answer is `mirror`.
double first_share(const Engine& engine, const IpPrefix& within, unsigned length, uint16_t mirror) {
  int first = 0, total = 0;
  for (const IpAddress& network : random_networks(within, length, 10000)) {
    Decision d = engine.choose(0, Family::V4, {network, static_cast<uint8_t>(length), true});
    first += d.mirrors[0] == mirror ? 1 : 0;
    ++total;
  }
  return static_cast<double>(first) / total;
}

// 100 : 25 is 80 % : 20 %. The split is a deterministic hash per draw network (/40
// for IPv6, /20 for IPv4), so the test is exact for its seed; the tolerance is what
// chance allows for a fair draw: 10,000 /48s in a /24 fall in about 10,000 distinct
// /40s (standard deviation of the share 0.4 %, tolerance 2 %, five of them), while
// 10,000 /24s in Johannesburg's /11 fall in its 512 /20s (1.8 %, tolerance 6 %).
TEST(CapacityWeights, MirrorsWithinSpreadShareClientsByWeightIpv6) {
  // The two shared mirrors moved to Mountain View (2600:1700::/24 in the fixture),
  // us-west to Seattle, out of the spread.
  std::vector<Mirror> ms = shared_city();
  ms[kJohannesburg].location = {37.40, -122.00};
  ms[kCapeTown].location = {37.45, -122.05};
  ms[kUsWest].location = {47.61, -122.33};
  Engine engine(ms, {spread()}, geoip(), nullptr);
  EXPECT_NEAR(first_share(engine, prefix("2600:1700::/24"), 48, kJohannesburg), 0.8, 0.02);
}

TEST(CapacityWeights, MirrorsWithinSpreadShareClientsByWeightIpv4) {
  Engine engine(shared_city(), {spread()}, geoip(), nullptr);
  double share = first_share(engine, prefix("41.0.0.0/11"), 24, kJohannesburg);
  EXPECT_NEAR(share, 0.8, 0.06);
}

TEST(CapacityWeights, WithoutSpreadTheNearestTakesEveryClient) {
  Engine engine(shared_city(), {service()}, geoip(), nullptr);
  EXPECT_EQ(first_share(engine, prefix("41.0.0.0/11"), 24, kJohannesburg), 1.0);
}

TEST(CapacityWeights, EveryAddressInTheScopeGetsTheSameAnswer) {
  Engine engine(shared_city(), {spread(2)}, geoip(), nullptr);
  std::mt19937 random(11);
  for (const IpAddress& network : random_networks(prefix("41.0.0.0/11"), 24, 200)) {
    Decision d = engine.choose(0, Family::V4, {network, 24, true});
    EXPECT_TRUE(d.spread);
    EXPECT_GE(d.scope_prefix, 20);
    EXPECT_LE(d.scope_prefix, 24);
    IpAddress other = network.masked(d.scope_prefix);
    other.bytes[3] = static_cast<uint8_t>(random());
    other.bytes[2] |= static_cast<uint8_t>(random() & ((1u << (24 - d.scope_prefix)) - 1));
    Decision again = engine.choose(0, Family::V4, {other, 32, false});
    EXPECT_EQ(chosen(again), chosen(d)) << network.to_string() << "/" << unsigned{d.scope_prefix} << " and "
                                        << other.to_string();
  }
}

TEST(CapacityWeights, ANetworkKeepsItsMirrorAcrossEnginesAndMirrorOrder) {
  std::vector<Mirror> ms = shared_city();
  Engine first(ms, {spread()}, geoip(), nullptr);
  // The same mirrors listed in another order: the draw goes by mirror id, not index.
  std::swap(ms[kJohannesburg], ms[kCapeTown]);
  ServiceSpec reordered = spread();
  Engine second(ms, {reordered}, geoip(), nullptr);
  for (const IpAddress& network : random_networks(prefix("41.0.0.0/11"), 24, 300)) {
    Decision a = first.choose(0, Family::V4, {network, 24, true});
    Decision b = second.choose(0, Family::V4, {network, 24, true});
    EXPECT_EQ(first.mirrors()[a.mirrors[0]].id, second.mirrors()[b.mirrors[0]].id) << network.to_string();
  }
}

TEST(CapacityWeights, SpreadMirrorOutOfTheTierLeavesItsClientsToTheOther) {
  std::vector<Mirror> ms = shared_city();
  auto state = healthcheck::HealthState::all_up(ms.size());
  state.mirrors[kJohannesburg].verdict = healthcheck::Verdict::Down;
  Engine engine(ms, {spread()}, geoip(), std::make_shared<const healthcheck::HealthState>(state));
  EXPECT_EQ(first_share(engine, prefix("41.0.0.0/11"), 24, kCapeTown), 1.0);
}

TEST(CapacityWeights, MirrorsBeyondSpreadKeepDistanceOrder) {
  // Cape Town proper is 1,270 km from Johannesburg: outside a 50 km spread.
  Engine engine(mirrors(), {spread()}, geoip(), nullptr);
  Decision d = engine.choose(0, Family::V4, client(kSouthIsp));
  EXPECT_FALSE(d.spread);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kJohannesburg});
}

// Every address inside the scope of an answer gets that answer, with the spread, the
// failover range and home ASes all in play, in several health states: the engine
// against itself (the weighted draw has no simpler reference), at every GeoIP and AS
// boundary and at random addresses.
TEST(CapacityWeights, ScopesHoldWithSpreadFailoverAndHomesInEveryHealthState) {
  std::vector<Mirror> ms = shared_city();
  ms[kParis].asns = {64501};
  ms[kUsWest].weight = 0;
  ServiceSpec s = spread(2);
  s.spread_km = 2000;  // Johannesburg and both Cape Town mirrors share
  s.failover_km = 3000;
  auto g = geoip();
  auto map = SteeringMap::compile(ms, {s}, g);
  std::mt19937_64 random(5);
  std::vector<Address128> samples;
  for (const Partition& p : {g->partition(Family::V4).partition, g->asn_partition(Family::V4).partition}) {
    for (size_t i = 0; i < p.size(); ++i) {
      samples.push_back(p.start(i));
      if (p.start(i) > 0) samples.push_back(p.start(i) - 1);
    }
  }
  for (int i = 0; i < 300; ++i) samples.push_back(random() & 0xFFFFFFFF);
  for (int round = 0; round < 4; ++round) {
    auto state = healthcheck::HealthState::all_up(ms.size());
    for (auto& m : state.mirrors) m.verdict = random() % 3 == 0 ? healthcheck::Verdict::Down : healthcheck::Verdict::Up;
    Engine engine(map, std::make_shared<const healthcheck::HealthState>(state));
    for (Address128 x : samples) {
      IpAddress address = to_address(x, Family::V4);
      Decision d = engine.choose(0, Family::V4, {address, 32, false});
      Address128 first = to_number(address.masked(d.scope_prefix));
      Address128 span = prefix_end(first, d.scope_prefix, 32) - first;
      for (int j = 0; j < 8; ++j) {
        IpAddress other = to_address(first + (span == 0 ? 0 : random() % (span + 1)), Family::V4);
        ASSERT_EQ(chosen(engine.choose(0, Family::V4, {other, 32, false})), chosen(d))
            << other.to_string() << " is inside " << address.to_string() << "/" << unsigned{d.scope_prefix};
      }
    }
  }
}

// --- failover range -----------------------------------------------------------------

TEST(FailoverRange, SecondAnswerOnlyWithinFailoverKm) {
  ServiceSpec s = service(2);
  s.failover_km = 2000;  // Cape Town is 1,270 km from Johannesburg, São Paulo 7,400
  Decision d = choose(mirrors(), s, kSouthIsp);
  EXPECT_EQ(chosen(d), (std::vector<uint16_t>{kJohannesburg, kCapeTown}));
  EXPECT_FALSE(d.short_of_failover);
}

TEST(FailoverRange, ClientWithOneMirrorInRangeGetsOneAndIsToldSo) {
  ServiceSpec s = service(2);
  s.failover_km = 500;
  Decision d = choose(mirrors(), s, kSouthIsp);
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kJohannesburg});
  EXPECT_TRUE(d.short_of_failover);
}

TEST(FailoverRange, FarMirrorStillAnswersWhenNothingNearerCan) {
  ServiceSpec s = service(2);
  s.failover_km = 500;
  auto state = healthcheck::HealthState::all_up(mirrors().size());
  state.mirrors[kJohannesburg].verdict = healthcheck::Verdict::Down;
  state.mirrors[kCapeTown].verdict = healthcheck::Verdict::Down;
  Engine engine(mirrors(), {s}, geoip(), std::make_shared<const healthcheck::HealthState>(state));
  Decision d = engine.choose(0, Family::V4, client(kSouthIsp));
  // São Paulo (7,400 km) is the nearest left; Paris (8,700 km) is not within 500 km of it.
  EXPECT_EQ(chosen(d), std::vector<uint16_t>{kSaoPaulo});
  EXPECT_TRUE(d.short_of_failover);
}

TEST(FailoverRange, RangeIsMeasuredFromTheMirrorAnsweredFirst) {
  // Johannesburg is down; Windhoek (1,200 km from the client) answers first and Cape
  // Town (1,270 km) is within 500 km of it, though not of Johannesburg.
  std::vector<Mirror> ms = mirrors();
  ms[kParis].location = {-22.56, 17.08};
  ServiceSpec s = service(2);
  s.failover_km = 500;
  auto state = healthcheck::HealthState::all_up(ms.size());
  state.mirrors[kJohannesburg].verdict = healthcheck::Verdict::Down;
  Engine engine(ms, {s}, geoip(), std::make_shared<const healthcheck::HealthState>(state));
  Decision d = engine.choose(0, Family::V4, client(kSouthIsp));
  EXPECT_EQ(chosen(d), (std::vector<uint16_t>{kParis, kCapeTown}));
  EXPECT_FALSE(d.short_of_failover);
}

TEST(FailoverRange, OffByDefault) {
  Decision d = choose(mirrors(), service(2), kSouthIsp);
  EXPECT_EQ(d.count, 2);
  EXPECT_FALSE(d.short_of_failover);
}

// --- GeoIP ----------------------------------------------------------------------------

TEST(AsnData, DatabasesAreRecognisedByTheirRecords) {
  auto g = geoip();
  EXPECT_EQ(g->databases()[0].kind, DatabaseKind::City);
  EXPECT_EQ(g->databases()[2].kind, DatabaseKind::Asn);
  EXPECT_TRUE(g->has_asn_data());
  EXPECT_FALSE(GeoIp::open({fixture("nested-city.mmdb")})->has_asn_data());
}

TEST(AsnData, LookupGivesLocationAsnAndOrganization) {
  auto g = geoip();  // the organization is read from the open database
  GeoResult r = g->lookup(ip(kHurricane));
  EXPECT_STREQ(r.location.country, "BR");
  EXPECT_EQ(r.asn, 6939u);
  EXPECT_EQ(r.asn_organization, "Hurricane Electric LLC");
  EXPECT_EQ(g->lookup(ip("2001:638::1")).asn, 680u);
  EXPECT_EQ(g->lookup(ip("192.0.2.1")).asn, 0u);
}

TEST(AsnData, AsnDatabaseIsRecognisedThoughARecordLacksItsNumber) {
  auto g = GeoIp::open({fixture("asn-odd.mmdb")});
  EXPECT_EQ(g->databases()[0].kind, DatabaseKind::Asn);
}

TEST(AsnData, NumbersStoredAsUint128AreRead) {
  auto g = GeoIp::open({fixture("asn-odd.mmdb")});
  EXPECT_EQ(g->lookup(ip("8.8.8.8")).asn, 15169u);
  EXPECT_EQ(g->lookup(ip("1.0.0.1")).asn, 0u);
}

TEST(AsnData, LookupPassesARecordWithoutANumberToTheNextDatabase) {
  auto g = GeoIp::open({fixture("asn-odd.mmdb"), fixture("asn.mmdb")});
  // 1.0.0.0/24 has a record without a number in the first; the second has no record.
  EXPECT_EQ(g->lookup(ip("1.0.0.1")).asn, 0u);
  EXPECT_EQ(g->lookup(ip("8.8.8.8")).asn, 15169u);
  EXPECT_EQ(g->lookup(ip("130.149.1.1")).asn, 680u);
}

TEST(AsnData, PartitionHoldsEveryAsRange) {
  Partition p = geoip()->asn_partition(Family::V4).partition;
  EXPECT_EQ(p.value(p.find(to_number(ip(kSouthIsp)))), 64500u);
  EXPECT_EQ(p.value(p.find(to_number(ip(kNorthIsp)))), 64501u);
  EXPECT_EQ(p.value(p.find(to_number(ip("41.32.0.0")))), 0u);
  EXPECT_EQ(p.value(p.find(to_number(ip("10.0.0.1")))), 0u);
}

}  // namespace
}  // namespace geosteer::steering
