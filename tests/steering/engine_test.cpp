#include "steering/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/steering/fixtures.h"

namespace geosteer::steering {
namespace {

using testing::fixture;
using testing::ip;
using testing::prefix;

// The mirrors of deploy/examples/guix.yaml, by index.
enum : uint16_t { kBerlin, kBordeaux, kUsWest, kUsEast, kSaoPaulo, kTokyo, kSingapore, kSydney };

Mirror mirror(const char* id, double lat, double lon, const char* ipv4, const char* ipv6) {
  Mirror m;
  m.id = id;
  m.location = {lat, lon};
  m.ipv4.push_back(ip(ipv4));
  if (ipv6 != nullptr) m.ipv6.push_back(ip(ipv6));
  return m;
}

std::vector<Mirror> demo_mirrors() {
  return {
      mirror("berlin", 52.52, 13.40, "141.80.181.40", nullptr),
      mirror("bordeaux", 44.84, -0.58, "192.0.2.10", "2001:db8:1::10"),
      mirror("us-west", 37.55, -121.98, "198.51.100.10", "2001:db8:2::10"),
      mirror("us-east", 39.04, -77.49, "198.51.100.20", "2001:db8:3::10"),
      mirror("sao-paulo", -23.55, -46.63, "198.51.100.30", nullptr),
      mirror("tokyo", 35.68, 139.69, "198.51.100.40", "2001:db8:4::10"),
      mirror("singapore", 1.35, 103.82, "198.51.100.50", nullptr),
      mirror("sydney", -33.87, 151.21, "198.51.100.60", nullptr),
  };
}

ServiceSpec demo_service() {
  ServiceSpec s;
  s.name = "substitutes.guix.example.org.";
  s.mirrors = {kBerlin, kBordeaux, kUsWest, kUsEast, kSaoPaulo, kTokyo, kSingapore, kSydney};
  s.answers = 2;
  s.fallback = {kBerlin, kBordeaux};
  s.country_overrides = {{"CN", {kSingapore}}};
  s.continent_overrides = {{"AF", {kBordeaux}}};
  s.network_overrides = {{prefix("203.0.113.0/24"), {kSydney}},
                         {prefix("2001:db8:99::/48"), {kTokyo}}};
  return s;
}

std::shared_ptr<const GeoIp> demo_geoip() {
  static auto geoip = GeoIp::open({fixture("flat-ipv4.mmdb"), fixture("flat-ipv6.mmdb")});
  return geoip;
}

Client client(const char* address) {
  IpAddress a = ip(address);
  return Client{a, static_cast<uint8_t>(a.bits()), false};
}

class EngineTest : public ::testing::Test {
 protected:
  std::vector<Mirror> mirrors = demo_mirrors();
  ServiceSpec service = demo_service();
  std::shared_ptr<const healthcheck::HealthState> health;
  std::vector<bool> drained;  // at run time (geosteer ctl drain), by mirror index

  Engine engine() const { return Engine(mirrors, {service}, demo_geoip(), health, drained); }

  Decision choose(const char* address, Family family = Family::V4) const {
    return engine().choose(0, family, client(address));
  }

  // The ids of the chosen mirrors, best first.
  std::vector<std::string> ids(const Decision& d) const {
    std::vector<std::string> out;
    for (uint16_t m : d.chosen()) out.push_back(mirrors[m].id);
    return out;
  }

  void set_verdict(uint16_t mirror, healthcheck::Verdict verdict) {
    auto state = health ? *health : healthcheck::HealthState::all_up(mirrors.size());
    state.mirrors[mirror].verdict = verdict;
    health = std::make_shared<const healthcheck::HealthState>(state);
  }

  void set_all(healthcheck::Verdict verdict) {
    for (uint16_t m = 0; m < mirrors.size(); ++m) set_verdict(m, verdict);
  }
};

using Strings = std::vector<std::string>;

TEST_F(EngineTest, BerlinClientGetsBerlinThenBordeaux) {
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"berlin", "bordeaux"}));
  EXPECT_EQ(d.reason, Reason::Distance);
}

TEST_F(EngineTest, CaliforniaClientGetsUsWestThenUsEast) {
  EXPECT_EQ(ids(choose("8.8.8.8")), (Strings{"us-west", "us-east"}));
}

TEST_F(EngineTest, TokyoClientGetsTokyoFirst) {
  EXPECT_EQ(ids(choose("133.11.2.3")).front(), "tokyo");
}

TEST_F(EngineTest, SaoPauloClientGetsSaoPauloFirst) {
  EXPECT_EQ(ids(choose("143.107.2.3")).front(), "sao-paulo");
}

TEST_F(EngineTest, AaaaAnswerLeavesOutMirrorsWithoutIpv6) {
  Decision d = choose("2001:638::1", Family::V6);  // Berlin, but berlin has no IPv6
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-east"}));
}

TEST_F(EngineTest, DrainedMirrorIsNeverChosen) {
  mirrors[kBerlin].drain = true;
  EXPECT_EQ(ids(choose("130.149.7.7")), (Strings{"bordeaux", "us-east"}));
  // Not even when the fallback list names it.
  EXPECT_EQ(ids(choose("100.64.1.1")), (Strings{"bordeaux", "us-west"}));
}

TEST_F(EngineTest, CountryOverrideComesFirstThenNearest) {
  Decision d = choose("1.2.4.8");  // Beijing
  EXPECT_EQ(ids(d), (Strings{"singapore", "tokyo"}));
  EXPECT_EQ(d.reason, Reason::CountryOverride);
}

TEST_F(EngineTest, ContinentOverrideComesFirstThenNearest) {
  Decision d = choose("41.1.2.3");  // Johannesburg, AF
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "sao-paulo"}));
  EXPECT_EQ(d.reason, Reason::ContinentOverride);
}

TEST_F(EngineTest, NetworkOverrideComesFirstWithItsPrefixAsScope) {
  Decision d = choose("203.0.113.77");  // GeoIP says Tokyo
  EXPECT_EQ(ids(d), (Strings{"sydney", "tokyo"}));
  EXPECT_EQ(d.reason, Reason::NetworkOverride);
  EXPECT_EQ(d.scope_prefix, 24);
}

TEST_F(EngineTest, OverrideThatFillsTheAnswerGivesItsOwnPrefixAsScope) {
  // 130.0.0.0/8 is wider than GeoIP's 130.149.0.0/16 and names enough mirrors for
  // the whole answer: GeoIP decided nothing, so the scope is the override's /8.
  service.network_overrides.push_back({prefix("130.0.0.0/8"), {kSydney, kTokyo}});
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"sydney", "tokyo"}));
  EXPECT_EQ(d.scope_prefix, 8);
}

TEST_F(EngineTest, OverrideFilledUpByDistanceIsScopedToTheGeoIpNetworkThatDecidedIt) {
  // One mirror from the /8 override, the second by distance from GeoIP's Tokyo /16;
  // the rest of the /8 is unlocated and gets the fallback (berlin) second.
  service.network_overrides.push_back({prefix("133.0.0.0/8"), {kSydney}});
  Decision d = choose("133.11.7.7");
  EXPECT_EQ(ids(d), (Strings{"sydney", "tokyo"}));
  EXPECT_EQ(d.scope_prefix, 16);
}

TEST_F(EngineTest, OverrideFilledUpAlikeInsideAndOutsideGeoIpSpansTheOverride) {
  // Berlin's /16 gets sydney, then berlin by distance; the unlocated rest of the /8
  // gets sydney, then berlin from the fallback: the same answer across the /8.
  service.network_overrides.push_back({prefix("130.0.0.0/8"), {kSydney}});
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"sydney", "berlin"}));
  EXPECT_EQ(d.reason, Reason::NetworkOverride);
  EXPECT_EQ(d.scope_prefix, 8);
}

TEST_F(EngineTest, EqualDistancesKeepConfigurationOrder) {
  mirrors[kUsEast].location = mirrors[kUsWest].location;  // us-west comes first in the service
  EXPECT_EQ(ids(choose("8.8.8.8")), (Strings{"us-west", "us-east"}));
  std::swap(service.mirrors[2], service.mirrors[3]);      // now us-east does
  EXPECT_EQ(ids(choose("8.8.8.8")), (Strings{"us-east", "us-west"}));
}

TEST_F(EngineTest, Ipv6NetworkOverrideAppliesToIpv6Clients) {
  Decision d = choose("2001:db8:99::5", Family::V6);  // GeoIP says Sydney
  EXPECT_EQ(ids(d).front(), "tokyo");
  EXPECT_EQ(d.reason, Reason::NetworkOverride);
  EXPECT_EQ(d.scope_prefix, 48);
}

TEST_F(EngineTest, UnlocatedClientGetsFallbackMirrors) {
  Decision d = choose("100.64.1.1");
  EXPECT_EQ(ids(d), (Strings{"berlin", "bordeaux"}));
  EXPECT_EQ(d.reason, Reason::Fallback);
}

TEST_F(EngineTest, FallbackFollowsItsOwnOrder) {
  service.fallback = {kSydney, kTokyo};
  EXPECT_EQ(ids(choose("100.64.1.1")), (Strings{"sydney", "tokyo"}));
}

TEST_F(EngineTest, FallbackWithoutIpv6MembersIsFilledInConfigOrderForAaaa) {
  service.fallback = {kBerlin};
  Decision d = choose("2a00::1", Family::V6);
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-west"}));
  EXPECT_EQ(d.reason, Reason::ConfigOrder);
}

TEST_F(EngineTest, PartialFallbackIsFilledInConfigOrder) {
  Decision d = choose("2a00::1", Family::V6);  // berlin has no IPv6, bordeaux has
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-west"}));
  EXPECT_EQ(d.reason, Reason::Fallback);
}

TEST_F(EngineTest, NoFallbackMeansConfigOrder) {
  service.fallback.clear();
  service.mirrors = {kTokyo, kUsEast, kBerlin};
  Decision d = choose("100.64.1.1");
  EXPECT_EQ(ids(d), (Strings{"tokyo", "us-east"}));
  EXPECT_EQ(d.reason, Reason::ConfigOrder);
}

TEST_F(EngineTest, CountryWithoutCoordinatesGetsOverridesThenFallback) {
  service.continent_overrides.push_back({"EU", {kUsEast}});
  Decision d = choose("5.5.1.1");  // FR, no coordinates
  EXPECT_EQ(ids(d), (Strings{"us-east", "berlin"}));
  EXPECT_EQ(d.reason, Reason::ContinentOverride);
}

TEST_F(EngineTest, OverrideMirrorsMustBeCandidatesOfTheFamily) {
  // singapore has no IPv6 address, so an AAAA answer skips the override that names it.
  service.network_overrides.push_back({prefix("2001:db8:77::/48"), {kSingapore}});
  Decision d = choose("2001:db8:77::1", Family::V6);
  EXPECT_NE(d.reason, Reason::NetworkOverride);
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-west"}));
}

TEST_F(EngineTest, AnswersCountIsHonoured) {
  service.answers = 3;
  EXPECT_EQ(ids(choose("130.149.7.7")), (Strings{"berlin", "bordeaux", "us-east"}));
  service.answers = 1;
  EXPECT_EQ(ids(choose("130.149.7.7")), (Strings{"berlin"}));
}

TEST_F(EngineTest, NoMirrorOfTheFamilyGivesNoCandidate) {
  service.mirrors = {kBerlin, kSaoPaulo};
  Decision d = choose("2001:638::1", Family::V6);
  EXPECT_EQ(d.count, 0);
  EXPECT_EQ(d.reason, Reason::NoCandidate);
}

// Networks whose addresses all get the same answer are one scope: Berlin's /16 gets
// berlin, bordeaux by distance, and the unlocated space around it the fallback,
// berlin, bordeaux too; up to 128.0.0.0/6, past which Tokyo's 133.11.0.0/16 starts.
TEST_F(EngineTest, ScopeIsTheWidestNetworkWhoseAddressesGetTheSameAnswer) {
  EXPECT_EQ(choose("130.149.7.7").scope_prefix, 6);
}

TEST_F(EngineTest, ScopeIsTheGeoIpNetworkWhereItsNeighboursAnswerOtherwise) {
  EXPECT_EQ(choose("8.8.8.8").scope_prefix, 24);  // us-west, us-east amid berlin, bordeaux
  EXPECT_EQ(choose("2001:200::1", Family::V6).scope_prefix, 32);  // Tokyo
}

TEST_F(EngineTest, ScopeOfUnlocatedClientIsTheEmptyNetworkPrefix) {
  EXPECT_EQ(choose("100.64.1.1").scope_prefix, 2);  // 64.0.0.0/2 has no record
}

TEST_F(EngineTest, ScopeGrowsToExcludeOverrideInsideClientNetwork) {
  // 130.149.1.1 and 130.149.3.0/24 share 22 bits (third octets 000000|01 and
  // 000000|11): a /23 around the client is the widest network that leaves the
  // override out, while GeoIP alone would have allowed /16.
  service.network_overrides.push_back({prefix("130.149.3.0/24"), {kSydney}});
  Decision d = choose("130.149.1.1");
  EXPECT_EQ(ids(d).front(), "berlin");
  EXPECT_EQ(d.scope_prefix, 23);
}

TEST_F(EngineTest, ScopeGrowsToExcludeLongerOverrideInsideMatchedOverride) {
  service.network_overrides.push_back({prefix("203.0.113.128/25"), {kSingapore}});
  Decision d = choose("203.0.113.7");
  EXPECT_EQ(ids(d).front(), "sydney");
  EXPECT_EQ(d.scope_prefix, 25);
  EXPECT_EQ(ids(choose("203.0.113.200")).front(), "singapore");
}

TEST_F(EngineTest, ScopeWithoutGeoIpIsZeroUnlessOverridesNeedMore) {
  Engine plain(mirrors, {service}, nullptr, nullptr);
  Decision d = plain.choose(0, Family::V6, client("2a00::1"));
  EXPECT_EQ(d.reason, Reason::Fallback);
  // 2a00::1 and 2001:db8:99::/48 share 4 bits (0010 1010 / 0010 0000).
  EXPECT_EQ(d.scope_prefix, 5);
}

TEST_F(EngineTest, EveryMirrorUpIsTheHealthyTier) {
  EXPECT_EQ(choose("130.149.7.7").tier, Tier::Healthy);
}

TEST_F(EngineTest, UnhealthyMirrorIsSkipped) {
  set_verdict(kBerlin, healthcheck::Verdict::Down);
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(d.tier, Tier::Healthy);
}

TEST_F(EngineTest, StaleMirrorLosesToAnUpOneEvenIfMuchCloser) {
  set_all(healthcheck::Verdict::Down);
  set_verdict(kBerlin, healthcheck::Verdict::Stale);  // next door to the client
  set_verdict(kSydney, healthcheck::Verdict::Up);     // the other side of the Earth
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"sydney"}));
  EXPECT_EQ(d.tier, Tier::Healthy);
}

TEST_F(EngineTest, WithNothingUpTheStaleOnesAnswer) {
  set_all(healthcheck::Verdict::Down);
  set_verdict(kTokyo, healthcheck::Verdict::Stale);
  set_verdict(kUsEast, healthcheck::Verdict::Stale);
  set_verdict(kBerlin, healthcheck::Verdict::Slow);
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"us-east", "tokyo"}));
  EXPECT_EQ(d.tier, Tier::Stale);
  EXPECT_EQ(d.reason, Reason::Distance);
}

TEST_F(EngineTest, EveryMirrorStaleAnswersByDistanceAsUsual) {
  set_all(healthcheck::Verdict::Stale);
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"berlin", "bordeaux"}));
  EXPECT_EQ(d.tier, Tier::Stale);
}

TEST_F(EngineTest, WithNothingUpOrStaleTheSlowFallbackMirrorsAnswer) {
  set_all(healthcheck::Verdict::Down);
  set_verdict(kBordeaux, healthcheck::Verdict::Slow);  // a fallback mirror
  set_verdict(kUsWest, healthcheck::Verdict::Slow);    // not one
  Decision d = choose("8.8.8.8");                      // California: us-west is next door
  EXPECT_EQ(ids(d), (Strings{"bordeaux"}));
  EXPECT_EQ(d.tier, Tier::Fallback);
}

TEST_F(EngineTest, FallbackTierSkipsFallbackMirrorsThatAreDown) {
  set_all(healthcheck::Verdict::Down);
  set_verdict(kBordeaux, healthcheck::Verdict::Slow);
  Decision d = choose("100.64.1.1");  // unlocated: berlin would be first of the fallback list
  EXPECT_EQ(ids(d), (Strings{"bordeaux"}));
  EXPECT_EQ(d.reason, Reason::Fallback);
  EXPECT_EQ(d.tier, Tier::Fallback);
}

TEST_F(EngineTest, WithNothingElseEveryMirrorAnswersWhateverItsHealth) {
  set_all(healthcheck::Verdict::Slow);
  set_verdict(kBerlin, healthcheck::Verdict::Down);
  set_verdict(kBordeaux, healthcheck::Verdict::Down);  // the whole fallback list is down
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"berlin", "bordeaux"}));
  EXPECT_EQ(d.tier, Tier::FailOpen);
}

TEST_F(EngineTest, DrainedMirrorIsNotAnsweredEvenWhenFailingOpen) {
  set_all(healthcheck::Verdict::Down);
  mirrors[kBerlin].drain = true;
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(d.tier, Tier::FailOpen);
}

TEST_F(EngineTest, MirrorDrainedAtRunTimeIsNeverChosen) {
  drained = std::vector<bool>(mirrors.size(), false);
  drained[kBerlin] = true;
  EXPECT_EQ(ids(choose("130.149.7.7")), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(ids(choose("100.64.1.1")), (Strings{"bordeaux", "us-west"}));
  EXPECT_TRUE(engine().drained(kBerlin));
  EXPECT_FALSE(engine().drained(kBordeaux));
}

TEST_F(EngineTest, MirrorDrainedAtRunTimeIsNotAnsweredEvenWhenFailingOpen) {
  set_all(healthcheck::Verdict::Down);
  drained = std::vector<bool>(mirrors.size(), false);
  drained[kBerlin] = true;
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(d.tier, Tier::FailOpen);
}

TEST_F(EngineTest, DrainedMirrorDoesNotCountAsUp) {
  set_all(healthcheck::Verdict::Stale);
  set_verdict(kBerlin, healthcheck::Verdict::Up);
  mirrors[kBerlin].drain = true;
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(d.tier, Tier::Stale);
}

TEST_F(EngineTest, TiersAreChosenPerFamily) {
  set_all(healthcheck::Verdict::Stale);
  set_verdict(kBerlin, healthcheck::Verdict::Up);  // IPv4 only
  Decision a = choose("130.149.7.7");
  EXPECT_EQ(ids(a), (Strings{"berlin"}));
  EXPECT_EQ(a.tier, Tier::Healthy);
  Decision aaaa = choose("2001:638::1", Family::V6);
  EXPECT_EQ(ids(aaaa), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(aaaa.tier, Tier::Stale);
}

TEST_F(EngineTest, NoMirrorOfTheFamilyIsNotAHealthTier) {
  set_all(healthcheck::Verdict::Down);
  service.mirrors = {kBerlin, kSaoPaulo};
  Decision d = choose("2001:638::1", Family::V6);
  EXPECT_EQ(d.count, 0);
  EXPECT_EQ(d.tier, Tier::Healthy);
}

TEST_F(EngineTest, MirrorsMissingFromAShortHealthStateCountAsUp) {
  health = std::make_shared<const healthcheck::HealthState>(healthcheck::HealthState::all_up(1));
  auto state = *health;
  state.mirrors[kBerlin].verdict = healthcheck::Verdict::Down;
  health = std::make_shared<const healthcheck::HealthState>(state);
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"bordeaux", "us-east"}));
  EXPECT_EQ(d.tier, Tier::Healthy);
}

TEST_F(EngineTest, ServiceWithTooManyMirrorsIsRejected) {
  service.mirrors.assign(257, kBerlin);
  EXPECT_THROW(engine(), std::invalid_argument);
}

TEST_F(EngineTest, MirrorIndexOutOfRangeIsRejected) {
  service.fallback.push_back(99);
  EXPECT_THROW(engine(), std::invalid_argument);
}

TEST(EngineDistance, BerlinToTokyoIsAbout8920Km) {
  EXPECT_NEAR(Engine::distance_km({52.52, 13.40}, {35.68, 139.69}), 8920, 20);
}

TEST(EngineDistance, IsSymmetricAndZeroForSamePoint) {
  Coordinates sydney{-33.87, 151.21}, sao_paulo{-23.55, -46.63};
  EXPECT_DOUBLE_EQ(Engine::distance_km(sydney, sao_paulo), Engine::distance_km(sao_paulo, sydney));
  EXPECT_DOUBLE_EQ(Engine::distance_km(sydney, sydney), 0);
}

TEST(EngineTier, NamesAreStable) {
  EXPECT_STREQ(to_string(Tier::Healthy), "healthy");
  EXPECT_STREQ(to_string(Tier::Stale), "stale");
  EXPECT_STREQ(to_string(Tier::Fallback), "fallback");
  EXPECT_STREQ(to_string(Tier::FailOpen), "fail-open");
}

TEST(EngineReason, NamesAreStable) {
  EXPECT_STREQ(to_string(Reason::NetworkOverride), "network-override");
  EXPECT_STREQ(to_string(Reason::Distance), "distance");
  EXPECT_STREQ(to_string(Reason::NoCandidate), "no-candidate");
}

}  // namespace
}  // namespace geosteer::steering

namespace geosteer::steering {
namespace {

// Each address is judged on its own: bordeaux has two IPv4 addresses and one IPv6.
class PerAddressHealthTest : public EngineTest {
 protected:
  const IpAddress first_v4 = ip("192.0.2.10"), second_v4 = ip("192.0.2.11"),
                  only_v6 = ip("2001:db8:1::10");

  void SetUp() override { mirrors[kBordeaux].ipv4.push_back(second_v4); }

  static healthcheck::AddressHealth judged(IpAddress address, healthcheck::Verdict verdict) {
    healthcheck::AddressHealth a;
    a.address = address;
    a.health.verdict = verdict;
    return a;
  }

  void set_addresses(healthcheck::Verdict first, healthcheck::Verdict second,
                     healthcheck::Verdict v6) {
    auto state = healthcheck::HealthState::all_up(mirrors.size());
    state.addresses.resize(mirrors.size());
    state.addresses[kBordeaux] = {judged(first_v4, first), judged(second_v4, second),
                                  judged(only_v6, v6)};
    state.mirrors[kBordeaux].verdict = std::max({first, second, v6});  // the worst, for operators
    health = std::make_shared<const healthcheck::HealthState>(state);
  }

  std::vector<IpAddress> answered(uint16_t mirror, Family family) const {
    Engine e = engine();
    auto span = e.answer_addresses(mirror, family);
    return {span.begin(), span.end()};
  }
};

TEST_F(PerAddressHealthTest, EveryAddressUpIsAnswered) {
  set_addresses(healthcheck::Verdict::Up, healthcheck::Verdict::Up, healthcheck::Verdict::Up);
  EXPECT_EQ(answered(kBordeaux, Family::V4), (std::vector<IpAddress>{first_v4, second_v4}));
}

TEST_F(PerAddressHealthTest, AnAddressDownLeavesTheAnswersWhileTheOtherServes) {
  set_addresses(healthcheck::Verdict::Down, healthcheck::Verdict::Up, healthcheck::Verdict::Up);
  EXPECT_EQ(answered(kBordeaux, Family::V4), (std::vector<IpAddress>{second_v4}));
  EXPECT_EQ(engine().verdict(kBordeaux, Family::V4), healthcheck::Verdict::Up);
  EXPECT_EQ(ids(choose("130.149.7.7", Family::V4)), (Strings{"berlin", "bordeaux"}));
}

TEST_F(PerAddressHealthTest, MirrorWithNoUsableAddressInTheFamilyIsNotUsableForIt) {
  set_addresses(healthcheck::Verdict::Up, healthcheck::Verdict::Up, healthcheck::Verdict::Down);
  EXPECT_EQ(engine().verdict(kBordeaux, Family::V6), healthcheck::Verdict::Down);
  // Bordeaux would come first from Berlin; the next IPv6 mirrors by distance answer.
  EXPECT_EQ(ids(choose("130.149.7.7", Family::V6)), (Strings{"us-east", "tokyo"}));
  EXPECT_EQ(ids(choose("130.149.7.7", Family::V4)), (Strings{"berlin", "bordeaux"}));
}

TEST_F(PerAddressHealthTest, MirrorAnsweredFromALowerTierGivesItsBestAddresses) {
  set_addresses(healthcheck::Verdict::Stale, healthcheck::Verdict::Down, healthcheck::Verdict::Down);
  auto state = *health;
  for (uint16_t m = 0; m < mirrors.size(); ++m) {
    if (m != kBordeaux) state.mirrors[m].verdict = healthcheck::Verdict::Down;
  }
  health = std::make_shared<const healthcheck::HealthState>(state);
  Decision d = choose("130.149.7.7", Family::V4);
  EXPECT_EQ(ids(d), (Strings{"bordeaux"}));
  EXPECT_EQ(d.tier, Tier::Stale);
  EXPECT_EQ(answered(kBordeaux, Family::V4), (std::vector<IpAddress>{first_v4}));
}

TEST_F(PerAddressHealthTest, FailingOpenAnswersEveryAddressOfAMirrorAllDown) {
  set_addresses(healthcheck::Verdict::Down, healthcheck::Verdict::Down, healthcheck::Verdict::Down);
  EXPECT_EQ(answered(kBordeaux, Family::V4), (std::vector<IpAddress>{first_v4, second_v4}));
}

TEST_F(PerAddressHealthTest, AddressAddedSinceTheStateCountsAsUp) {
  set_addresses(healthcheck::Verdict::Down, healthcheck::Verdict::Down, healthcheck::Verdict::Up);
  IpAddress added = ip("192.0.2.12");
  mirrors[kBordeaux].ipv4.push_back(added);
  EXPECT_EQ(answered(kBordeaux, Family::V4), (std::vector<IpAddress>{added}));
}

TEST_F(EngineTest, FlappingFallbackMirrorStaysOutOfTheFallbackTier) {
  set_all(healthcheck::Verdict::Down);
  set_verdict(kBordeaux, healthcheck::Verdict::Flapping);
  set_verdict(kBerlin, healthcheck::Verdict::Slow);
  Decision d = choose("130.149.7.7");
  EXPECT_EQ(ids(d), (Strings{"berlin"}));
  EXPECT_EQ(d.tier, Tier::Fallback);
}

}  // namespace
}  // namespace geosteer::steering
