// The query path promises not to allocate: GeoIp::lookup and Engine::choose run for
// every A/AAAA query on every thread.
#include <gtest/gtest.h>

#include "steering/engine.h"
#include "tests/steering/fixtures.h"
#include "tests/support/allocation_counter.h"

namespace geosteer::steering {
namespace {

using testing::fixture;
using testing::ip;
using testing::prefix;

using geosteer::testing::AllocationCounter;

Engine make_engine() {
  std::vector<Mirror> mirrors;
  const char* v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
  Coordinates places[] = {{52.52, 13.40}, {37.55, -121.98}, {35.68, 139.69}, {-23.55, -46.63}};
  for (int i = 0; i < 4; ++i) {
    Mirror m;
    m.id = "m" + std::to_string(i);
    m.location = places[i];
    m.ipv4.push_back(ip(v4[i]));
    if (i % 2 == 0) m.ipv6.push_back(ip("2001:db8::" + std::to_string(i + 1)));
    mirrors.push_back(m);
  }
  ServiceSpec service;
  service.name = "svc.example.";
  service.mirrors = {0, 1, 2, 3};
  service.answers = 3;
  service.fallback = {1};
  service.country_overrides = {{"CN", {3}}};
  service.continent_overrides = {{"AF", {2}}};
  service.network_overrides = {{prefix("203.0.113.0/24"), {1}}, {prefix("2001:db8:99::/48"), {2}}};
  auto geoip = GeoIp::open({fixture("flat-ipv4.mmdb"), fixture("flat-ipv6.mmdb"),
                            fixture("nested-city.mmdb")});
  // Judged per address: m0 has a second IPv4 address that is down.
  mirrors[0].ipv4.push_back(ip("192.0.2.11"));
  auto health = std::make_shared<healthcheck::HealthState>(healthcheck::HealthState::all_up(4));
  health->addresses.resize(4);
  healthcheck::AddressHealth down;
  down.address = ip("192.0.2.11");
  down.health.verdict = healthcheck::Verdict::Down;
  health->addresses[0].push_back(down);
  return Engine(mirrors, {service}, geoip, health);
}

TEST(SteeringAllocations, ChooseLookupAndAnswerAddressesDoNotAllocate) {
  Engine engine = make_engine();
  const IpAddress clients[] = {ip("130.149.7.7"),  ip("1.2.4.8"),     ip("41.1.2.3"),
                               ip("203.0.113.9"),  ip("100.64.1.1"),  ip("5.5.1.1"),
                               ip("2001:638::1"),  ip("2001:db8:99::1"), ip("2a00::1")};
  unsigned chosen = 0;
  size_t answered = 0;
  AllocationCounter counter;
  for (const IpAddress& address : clients) {
    Client client{address, static_cast<uint8_t>(address.bits()), true};
    for (Family family : {Family::V4, Family::V6}) {
      Decision decision = engine.choose(0, family, client);
      chosen += decision.count;
      for (uint16_t mirror : decision.chosen()) {
        answered += engine.answer_addresses(mirror, family).size();
      }
    }
  }
  long allocated = counter.stop();
  EXPECT_EQ(allocated, 0);
  EXPECT_GT(chosen, 0u);
  EXPECT_GT(answered, 0u);
}

TEST(SteeringAllocations, CounterSeesAllocations) {
  // Through a volatile pointer, so that the compiler cannot elide the allocation.
  static int* volatile sink = nullptr;
  AllocationCounter counter;
  sink = new int(7);
  long allocated = counter.stop();
  delete sink;
  EXPECT_EQ(allocated, 1);
}

}  // namespace
}  // namespace geosteer::steering
