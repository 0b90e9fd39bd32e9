// The steering map against the specification written the slow way: for sampled
// addresses of both families, in both GeoIP layouts and in many health states, the
// engine's answer is what a per-query GeoIP lookup, override match and distance sort
// give, and every address inside the ECS scope it returns gets that very answer.
#include "steering/steering_map.h"

#include <gtest/gtest.h>

#include <algorithm>
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

enum : uint16_t { kBerlin, kBordeaux, kUsWest, kUsEast, kSaoPaulo, kTokyo, kSingapore, kSydney };

Mirror mirror(const char* id, double lat, double lon, const char* ipv4, const char* ipv6) {
  Mirror m;
  m.id = id;
  m.location = {lat, lon};
  if (ipv4 != nullptr) m.ipv4.push_back(ip(ipv4));
  if (ipv6 != nullptr) m.ipv6.push_back(ip(ipv6));
  return m;
}

std::vector<Mirror> world_mirrors() {
  std::vector<Mirror> mirrors{
      mirror("berlin", 52.52, 13.40, "127.0.0.11", nullptr),
      mirror("bordeaux", 44.84, -0.58, "127.0.0.12", "::ffff:127.0.0.12"),
      mirror("us-west", 37.55, -121.98, "127.0.0.13", "::ffff:127.0.0.13"),
      mirror("us-east", 39.04, -77.49, "127.0.0.14", "::ffff:127.0.0.14"),
      mirror("sao-paulo", -23.55, -46.63, "127.0.0.15", nullptr),
      mirror("tokyo", 35.68, 139.69, "127.0.0.16", "::ffff:127.0.0.16"),
      mirror("singapore", 1.35, 103.82, "127.0.0.17", nullptr),
      mirror("sydney", -33.87, 151.21, "127.0.0.18", nullptr),
  };
  // Home networks and ASes (asn.mmdb: 41.0.0.0/12 is AS64500, 41.16.0.0/12 AS64501,
  // 130.149.0.0/16 and 2001:638::/32 AS680), one inside a network override.
  mirrors[kBordeaux].networks = {prefix("41.0.0.0/13"), prefix("2001:db8:99:8000::/49")};
  mirrors[kSaoPaulo].asns = {64501, 680};
  mirrors[kUsEast].networks = {prefix("41.8.0.0/13")};
  mirrors[kUsEast].asns = {64500};
  // Answered only when nothing else is left.
  mirrors[kSingapore].weight = 0;
  return mirrors;
}

ServiceSpec world_service(unsigned answers) {
  ServiceSpec s;
  s.name = "substitutes.example.org.";
  s.mirrors = {kBerlin, kBordeaux, kUsWest, kUsEast, kSaoPaulo, kTokyo, kSingapore, kSydney};
  s.answers = answers;
  s.fallback = {kBordeaux, kBerlin};
  s.country_overrides = {{"CN", {kSingapore}}, {"FR", {kBordeaux}}};
  s.continent_overrides = {{"AF", {kBordeaux}}};
  // Overrides inside GeoIP networks, around them, nested, and in empty space.
  s.network_overrides = {{prefix("203.0.113.0/24"), {kSydney}},
                         {prefix("203.0.113.128/25"), {kSingapore, kTokyo}},
                         {prefix("130.149.3.0/24"), {kSydney}},
                         {prefix("128.0.0.0/3"), {kUsEast}},
                         {prefix("2001:db8:99::/48"), {kTokyo}},
                         {prefix("2001:638:8000::/33"), {kUsWest}}};
  s.asn_overrides = {{6939, {kUsWest}}, {2501, {kSydney, kSingapore}}, {64501, {kTokyo}}};
  s.failover_km = 9000;
  return s;
}

struct Choice {
  std::vector<uint16_t> mirrors;
  Reason reason = Reason::NoCandidate;
  friend bool operator==(const Choice&, const Choice&) = default;
};

// The specification, the slow way: what the engine did per query before the map.
Choice reference(const Engine& engine, const ServiceSpec& s, Family family, IpAddress address) {
  // ::ffff:a.b.c.d is the IPv4 client a.b.c.d.
  if (prefix("::ffff:0:0/96").contains(address)) {
    address = IpAddress::v4({address.bytes[12], address.bytes[13], address.bytes[14], address.bytes[15]});
  }
  std::vector<bool> in_tier(engine.mirrors().size(), false);
  Decision tier_probe = engine.choose(0, family, {address, static_cast<uint8_t>(address.bits()), false});
  // The tier's members: every answerable mirror whose verdict is the tier's.
  for (uint16_t m : s.mirrors) {
    const Mirror& mirror = engine.mirrors()[m];
    const auto& addresses = family == Family::V4 ? mirror.ipv4 : mirror.ipv6;
    if (mirror.drain || addresses.empty()) continue;
    healthcheck::Verdict v = engine.verdict(m, family);
    switch (tier_probe.tier) {
      case Tier::Healthy: in_tier[m] = v == healthcheck::Verdict::Up; break;
      case Tier::Stale: in_tier[m] = v == healthcheck::Verdict::Stale; break;
      case Tier::Fallback:
        in_tier[m] = v == healthcheck::Verdict::Slow &&
                     std::count(s.fallback.begin(), s.fallback.end(), m) > 0;
        break;
      case Tier::FailOpen: in_tier[m] = true; break;
    }
  }
  // The full ranking, tier by tier.
  std::vector<RankedMirror> ranking;
  std::vector<bool> seen(engine.mirrors().size(), false);
  auto offer = [&](const std::vector<uint16_t>& list, Reason why) {
    for (uint16_t m : list) {
      const Mirror& mirror = engine.mirrors()[m];
      if (seen[m] || mirror.drain || mirror.addresses(family).empty()) continue;
      if (std::count(s.mirrors.begin(), s.mirrors.end(), m) == 0) continue;
      seen[m] = true;
      ranking.push_back({m, why});
    }
  };
  const std::vector<uint16_t>* network = nullptr;
  unsigned longest = 0;
  for (const auto& [net, list] : s.network_overrides) {
    if (net.contains(address) && (network == nullptr || net.length > longest)) {
      network = &list;
      longest = net.length;
    }
  }
  if (network != nullptr) offer(*network, Reason::NetworkOverride);
  GeoResult geo = engine.locate(address);
  // IPv6 addresses in an IPv6 database's IPv4 subtree (::/96; the fixtures have no
  // aliases of it) are IPv4 clients in disguise: not located.
  if (address.family == Family::V6 && prefix("::/96").contains(address)) geo = GeoResult{};
  const Location& where = geo.location;
  std::vector<double> distances(engine.mirrors().size(), 0);
  if (where.coordinates) {
    for (size_t m = 0; m < distances.size(); ++m) distances[m] = distance_km(*where.coordinates, engine.mirrors()[m].location);
  }
  auto distance = [&](uint16_t m) { return distances[m]; };
  for (const auto& [asn, list] : s.asn_overrides) {
    if (asn == geo.asn) offer(list, Reason::AsnOverride);
  }
  std::vector<uint16_t> home_networks, home_asns;
  for (uint16_t m : s.mirrors) {
    const Mirror& mirror = engine.mirrors()[m];
    if (std::any_of(mirror.networks.begin(), mirror.networks.end(), [&](const IpPrefix& n) { return n.contains(address); })) {
      home_networks.push_back(m);
    } else if (geo.asn != 0 && std::count(mirror.asns.begin(), mirror.asns.end(), geo.asn) > 0) {
      home_asns.push_back(m);
    }
  }
  std::vector<uint16_t> home = home_networks;
  home.insert(home.end(), home_asns.begin(), home_asns.end());
  std::sort(home.begin(), home.end());  // config order: the fixtures list mirrors by index
  if (where.coordinates) {
    std::stable_sort(home.begin(), home.end(), [&](uint16_t a, uint16_t b) { return distance(a) < distance(b); });
  }
  for (uint16_t m : home) {
    bool by_network = std::count(home_networks.begin(), home_networks.end(), m) > 0;
    offer({m}, by_network ? Reason::HomeNetwork : Reason::HomeAsn);
  }
  for (const auto& [code, list] : s.country_overrides) {
    if (code == where.country) offer(list, Reason::CountryOverride);
  }
  for (const auto& [code, list] : s.continent_overrides) {
    if (code == where.continent) offer(list, Reason::ContinentOverride);
  }
  if (where.coordinates) {
    std::vector<uint16_t> by_distance = s.mirrors;
    std::stable_sort(by_distance.begin(), by_distance.end(), [&](uint16_t a, uint16_t b) { return distance(a) < distance(b); });
    offer(by_distance, Reason::Distance);
  } else {
    offer(s.fallback, Reason::Fallback);
    offer(s.mirrors, Reason::ConfigOrder);
  }
  std::stable_partition(ranking.begin(), ranking.end(),
                        [&](const RankedMirror& r) { return engine.mirrors()[r.mirror].weight != 0; });
  // After the first answer, only mirrors within failover_km of the one answered first.
  auto within_failover = [&](uint16_t m, uint16_t first) {
    return s.failover_km == 0 || !where.coordinates || distance(m) <= distance(first) + s.failover_km;
  };
  Choice choice;
  for (const RankedMirror& r : ranking) {
    if (choice.mirrors.size() == s.answers || !in_tier[r.mirror]) continue;
    if (!choice.mirrors.empty() && !within_failover(r.mirror, choice.mirrors.front())) continue;
    if (choice.mirrors.empty()) choice.reason = r.reason;
    choice.mirrors.push_back(r.mirror);
  }
  return choice;
}

Choice choice_of(const Decision& d) {
  return {std::vector<uint16_t>(d.chosen().begin(), d.chosen().end()), d.reason};
}

// Addresses where answers change: every GeoIP and override boundary, one address to
// each side, plus random ones.
std::vector<IpAddress> sample_addresses(const Engine& engine, Family family, std::mt19937& random) {
  std::vector<Address128> numbers;
  auto around = [&](Address128 x) {
    numbers.push_back(x);
    if (x > 0) numbers.push_back(x - 1);
    if (x < last_address(family)) numbers.push_back(x + 1);
  };
  if (engine.geoip() != nullptr) {
    Partition geo = engine.geoip()->partition(family).partition;
    for (size_t i = 0; i < geo.size(); ++i) around(geo.start(i));
  }
  if (engine.geoip() != nullptr && engine.geoip()->has_asn_data()) {
    Partition asns = engine.geoip()->asn_partition(family).partition;
    for (size_t i = 0; i < asns.size(); ++i) around(asns.start(i));
  }
  auto around_network = [&](const IpPrefix& net) {
    if (net.address.family != family) return;
    Address128 start = to_number(net.address);
    around(start);
    around(prefix_end(start, net.length, family_bits(family)));
  };
  for (const auto& [net, list] : engine.services()[0].network_overrides) around_network(net);
  for (const Mirror& mirror : engine.mirrors()) {
    for (const IpPrefix& net : mirror.networks) around_network(net);
  }
  if (family == Family::V6) {
    for (const char* mapped : {"::ffff:0:0", "::ffff:8.8.8.8", "::ffff:130.149.7.7", "::ffff:ffff:ffff"}) {
      around(to_number(ip(mapped)));
    }
  }
  for (int i = 0; i < 200; ++i) {
    Address128 x = 0;
    for (int word = 0; word < 4; ++word) x = x << 32 | random();
    numbers.push_back(x & last_address(family));
  }
  std::vector<IpAddress> out;
  for (Address128 x : numbers) out.push_back(to_address(x, family));
  return out;
}

// Addresses inside address/scope: its first and last, every sampled one inside it, and
// random ones.
std::vector<IpAddress> inside(const IpAddress& address, unsigned scope,
                              const std::vector<IpAddress>& samples, std::mt19937& random) {
  unsigned bits = address.bits();
  Address128 first = to_number(address.masked(scope)), last = prefix_end(first, scope, bits);
  std::vector<IpAddress> out{to_address(first, address.family), to_address(last, address.family)};
  for (const IpAddress& s : samples) {
    Address128 x = to_number(s);
    if (x >= first && x <= last) out.push_back(s);
  }
  for (int i = 0; i < 8; ++i) {
    Address128 x = 0;
    for (int word = 0; word < 4; ++word) x = x << 32 | random();
    Address128 host = scope >= bits ? 0 : (last - first);
    out.push_back(to_address(first + (host == 0 ? 0 : x % (host + 1)), address.family));
  }
  return out;
}

struct Case {
  const char* name;
  std::vector<std::string> databases;
  unsigned answers;
  friend void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }
};

class SteeringMapProperty : public ::testing::TestWithParam<Case> {
 protected:
  std::shared_ptr<const GeoIp> geoip() const {
    if (GetParam().databases.empty()) return nullptr;
    std::vector<std::string> paths;
    for (const auto& name : GetParam().databases) paths.push_back(fixture(name));
    return GeoIp::open(paths);
  }

  // Every sampled address of both families, for both answer families, in `health`:
  // the answer is the reference's, and it holds throughout its scope.
  void check(const std::shared_ptr<const SteeringMap>& map,
             std::shared_ptr<const healthcheck::HealthState> health, std::mt19937& random) {
    Engine engine(map, std::move(health));
    const ServiceSpec& s = engine.services()[0];
    for (Family client_family : {Family::V4, Family::V6}) {
      std::vector<IpAddress> samples = sample_addresses(engine, client_family, random);
      for (const IpAddress& address : samples) {
        for (Family answer : {Family::V4, Family::V6}) {
          Decision d = engine.choose(0, answer, {address, static_cast<uint8_t>(address.bits()), false});
          Choice expected = reference(engine, s, answer, address);
          ASSERT_EQ(choice_of(d), expected) << address.to_string() << " answer family "
                                            << (answer == Family::V4 ? 4 : 6);
          for (const IpAddress& other : inside(address, d.scope_prefix, samples, random)) {
            ASSERT_EQ(reference(engine, s, answer, other).mirrors, expected.mirrors)
                << other.to_string() << " is inside " << address.to_string() << "/"
                << unsigned{d.scope_prefix} << " but gets another answer";
          }
        }
      }
    }
  }
};

TEST_P(SteeringMapProperty, AnswersAreTheReferenceAndHoldThroughoutTheirScopeInEveryHealthState) {
  std::mt19937 random(20261201);
  auto map = SteeringMap::compile(world_mirrors(), {world_service(GetParam().answers)}, geoip());
  check(map, nullptr, random);
  for (int round = 0; round < 6; ++round) {
    auto state = healthcheck::HealthState::all_up(map->mirrors.size());
    for (auto& m : state.mirrors) {
      static constexpr healthcheck::Verdict kVerdicts[] = {
          healthcheck::Verdict::Up, healthcheck::Verdict::Up, healthcheck::Verdict::Down,
          healthcheck::Verdict::Stale, healthcheck::Verdict::Slow};
      m.verdict = kVerdicts[random() % 5];
    }
    check(map, std::make_shared<const healthcheck::HealthState>(state), random);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, SteeringMapProperty,
    ::testing::Values(Case{"FlatOneAnswer", {"flat-ipv4.mmdb", "flat-ipv6.mmdb"}, 1},
                      Case{"FlatTwoAnswers", {"flat-ipv4.mmdb", "flat-ipv6.mmdb"}, 2},
                      Case{"NestedTwoAnswers", {"nested-city.mmdb"}, 2},
                      Case{"NestedThenFlat", {"nested-city.mmdb", "flat-ipv4.mmdb", "flat-ipv6.mmdb"}, 3},
                      Case{"NoGeoIp", {}, 2},
                      Case{"FlatWithAsnTwoAnswers", {"flat-ipv4.mmdb", "flat-ipv6.mmdb", "asn.mmdb"}, 2},
                      Case{"AsnThenNestedOneAnswer", {"asn.mmdb", "nested-city.mmdb"}, 1}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// Overrides alone, no GeoIP: 10.0.0.0/9 ranks a, b, c and 10.128.0.0/9 a, c, b; both
// agree on their first place. Everywhere else it is config order: c, a, b.
class CoarseAndFineScope : public ::testing::Test {
 protected:
  CoarseAndFineScope() {
    service.name = "s.example.org.";
    service.mirrors = {2, 0, 1};
    service.answers = 1;
    service.network_overrides = {{prefix("10.0.0.0/9"), {0, 1}}, {prefix("10.128.0.0/9"), {0, 2}}};
    map = SteeringMap::compile({mirror("a", 0, 0, "127.0.0.21", nullptr),
                                mirror("b", 0, 0, "127.0.0.22", nullptr),
                                mirror("c", 0, 0, "127.0.0.23", nullptr)},
                               {service}, nullptr);
  }

  Decision choose(const char* address, std::shared_ptr<const healthcheck::HealthState> health) {
    return Engine(map, std::move(health)).choose(0, Family::V4, {ip(address), 32, false});
  }

  ServiceSpec service;
  std::shared_ptr<const SteeringMap> map;
};

TEST_F(CoarseAndFineScope, AnAnswerFromTheFirstPlacesHoldsForTheWholeCoarseRange) {
  Decision d = choose("10.1.2.3", nullptr);
  ASSERT_EQ(d.count, 1);
  EXPECT_EQ(d.mirrors[0], 0);
  EXPECT_EQ(d.scope_prefix, 8);  // both /9s answer a
}

TEST_F(CoarseAndFineScope, AnAnswerFromFurtherDownHoldsOnlyForTheSameFullRanking) {
  auto state = healthcheck::HealthState::all_up(3);
  state.mirrors[0].verdict = healthcheck::Verdict::Down;
  Decision d = choose("10.1.2.3", std::make_shared<const healthcheck::HealthState>(state));
  ASSERT_EQ(d.count, 1);
  EXPECT_EQ(d.mirrors[0], 1);
  EXPECT_EQ(d.scope_prefix, 9);  // 10.128.0.0/9 would answer c
}

TEST_F(CoarseAndFineScope, EveryAddressWithTheSameRankingIsOneRange) {
  const FamilyMap& v4 = map->maps[0].find(Family::V4, Family::V4);
  // Below 10/8, the two /9s, above 10/8: outside both overrides it is config order.
  EXPECT_EQ(v4.fine_ranges(), 4u);
  EXPECT_EQ(v4.coarse_ranges(), 3u);
  EXPECT_EQ(v4.rankings(), 3u);
}

TEST_F(CoarseAndFineScope, AServicesFiguresAreThoseOfItsFourMapsTogether) {
  MapFigures expected;
  for (const FamilyMap& family : map->maps[0].maps) {
    expected.ranges += family.fine_ranges();
    expected.coarse_ranges += family.coarse_ranges();
    expected.rankings += family.rankings();
    expected.bytes += family.memory_bytes();
  }
  MapFigures figures = map->maps[0].figures();
  EXPECT_EQ(figures.ranges, expected.ranges);
  EXPECT_EQ(figures.coarse_ranges, expected.coarse_ranges);
  EXPECT_EQ(figures.rankings, expected.rankings);
  EXPECT_EQ(figures.bytes, expected.bytes);
  EXPECT_GT(figures.ranges, map->maps[0].find(Family::V4, Family::V4).fine_ranges());
}

// nested-city.mmdb holds IPv4 under ::/96, as MaxMind databases do.
TEST(SteeringMapIpv4InIpv6, Ipv6ClientsInsideTheIpv4SubtreeAreNotLocated) {
  ServiceSpec s = world_service(1);
  auto geoip = GeoIp::open({fixture("nested-city.mmdb")});
  Engine engine(SteeringMap::compile(world_mirrors(), {s}, geoip), nullptr);
  ASSERT_TRUE(geoip->lookup(ip("::8.8.8.8")).location.coordinates.has_value());
  EXPECT_EQ(engine.choose(0, Family::V4, {ip("::8.8.8.8"), 128, false}).reason, Reason::Fallback);
  EXPECT_EQ(engine.choose(0, Family::V4, {ip("8.8.8.8"), 32, false}).reason, Reason::Distance);
  EXPECT_EQ(engine.choose(0, Family::V4, {ip("2001:638::1"), 128, false}).reason, Reason::Distance);
}

TEST(SteeringMapIpv4InIpv6, AnIpv4MappedClientIsSteeredAsItsIpv4AddressWithinTheMappedNetwork) {
  ServiceSpec s = world_service(1);
  auto geoip = GeoIp::open({fixture("flat-ipv4.mmdb"), fixture("flat-ipv6.mmdb")});
  Engine engine(SteeringMap::compile(world_mirrors(), {s}, geoip), nullptr);
  Decision v4 = engine.choose(0, Family::V4, {ip("8.8.8.8"), 32, false});
  Decision mapped = engine.choose(0, Family::V4, {ip("::ffff:8.8.8.8"), 128, true});
  EXPECT_EQ(choice_of(mapped), choice_of(v4));
  EXPECT_EQ(mapped.reason, Reason::Distance);
  EXPECT_EQ(mapped.scope_prefix, 96 + v4.scope_prefix);
}

// Where every address gets the same ranking, one answer holds for the whole family.
TEST(SteeringMapScope, WithoutGeoIpOrOverridesTheScopeIsZero) {
  ServiceSpec s;
  s.name = "s.example.org.";
  s.mirrors = {0, 1};
  s.answers = 1;
  Engine engine(SteeringMap::compile({mirror("a", 52.5, 13.4, "127.0.0.31", "::ffff:127.0.0.31"),
                                      mirror("b", 44.8, -0.6, "127.0.0.32", nullptr)},
                                     {s}, nullptr),
                nullptr);
  EXPECT_EQ(engine.choose(0, Family::V4, {ip("130.149.7.7"), 32, false}).scope_prefix, 0);
  // IPv6 ranges stop short of ::ffff:0:0/96, which is steered as IPv4: 2000::/3.
  EXPECT_EQ(engine.choose(0, Family::V6, {ip("2001:638::1"), 128, false}).scope_prefix, 3);
}

}  // namespace
}  // namespace geosteer::steering
