// bench/map_stats: what the steering map costs and how wide its ECS scopes are, on a
// real configuration and GeoIP data, for each way of merging ranges. Not a test.
//
//   build/bench/map_stats CONFIG [SAMPLES] [SEED]
//
// For every service: compile time, ranges and memory of the map, then for SAMPLES
// random located IPv4 /24 and IPv6 /48 client networks (with every mirror up) the mean
// ECS scope of the answer against the prefix of the GeoIP network that holds the
// client (what the scope was before the map). Merging modes: "first places" (ranges
// agree on the first `answers` mirrors; the default) and "full ranking" (ranges agree
// on every place).
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "app/loader.h"
#include "steering/engine.h"

using namespace geosteer;

namespace {

struct Sample {
  IpAddress address;
  unsigned geoip_length;
};

// Random client networks with coordinates in GeoIP: real, routed, spread over the world.
std::vector<Sample> located_networks(const steering::GeoIp& geoip, Family family, size_t count,
                                     std::mt19937_64& random) {
  std::vector<Sample> out;
  unsigned source = family == Family::V4 ? 24 : 48;
  for (size_t tries = 0; out.size() < count && tries < count * 2000; ++tries) {
    IpAddress a;
    a.family = family;
    uint64_t r1 = random(), r2 = random();
    for (int i = 0; i < 8; ++i) a.bytes[i] = static_cast<uint8_t>(r1 >> (8 * i));
    for (int i = 0; i < 8; ++i) a.bytes[8 + i] = static_cast<uint8_t>(r2 >> (8 * i));
    if (family == Family::V6) a.bytes[0] = static_cast<uint8_t>(0x20 | (a.bytes[0] & 0x0F));  // 2000::/4
    a = a.masked(source);
    steering::GeoResult geo = geoip.lookup(a);
    if (!geo.location.coordinates) continue;
    out.push_back({a, geo.network.length});
  }
  return out;
}

void report(const app::LoadedConfig& loaded, const char* mode, unsigned depth, size_t samples,
            uint64_t seed) {
  auto started = std::chrono::steady_clock::now();
  auto map = steering::SteeringMap::compile(loaded.mirrors, loaded.services, loaded.geoip, {depth});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  steering::Engine engine(map, nullptr);
  std::printf("%s: compiled in %.2f s\n", mode, seconds);
  for (size_t s = 0; s < map->services.size(); ++s) {
    const steering::ServiceMap& service = map->maps[s];
    std::printf("  %s (answers %u)\n", map->services[s].name.c_str(), map->services[s].answers);
    const char* names[] = {"IPv4 clients, A", "IPv4 clients, AAAA", "IPv6 clients, A", "IPv6 clients, AAAA"};
    for (size_t i = 0; i < service.maps.size(); ++i) {
      const steering::FamilyMap& m = service.maps[i];
      std::printf("    %-20s %9zu ranges, %9zu by first places, %5zu rankings, %7zu KiB\n", names[i],
                  m.fine_ranges(), m.coarse_ranges(), m.rankings(), m.memory_bytes() / 1024);
    }
    for (Family family : {Family::V4, Family::V6}) {
      std::mt19937_64 random(seed);
      std::vector<Sample> clients = located_networks(*loaded.geoip, family, samples, random);
      double scope_sum = 0, geoip_sum = 0;
      size_t wider = 0, narrower = 0;
      for (const Sample& c : clients) {
        unsigned source = family == Family::V4 ? 24 : 48;
        steering::Decision d = engine.choose(s, family, {c.address, static_cast<uint8_t>(source), true});
        scope_sum += d.scope_prefix;
        geoip_sum += c.geoip_length;
        wider += d.scope_prefix < c.geoip_length;
        narrower += d.scope_prefix > c.geoip_length;
      }
      size_t n = clients.size();
      if (n == 0) continue;
      std::printf("    %zu %s networks: mean scope /%.1f (GeoIP network /%.1f); wider for %zu, narrower for %zu\n",
                  n, family == Family::V4 ? "IPv4 /24" : "IPv6 /48", scope_sum / n, geoip_sum / n, wider,
                  narrower);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CONFIG [SAMPLES] [SEED]\n", argv[0]);
    return 2;
  }
  size_t samples = argc > 2 ? std::stoul(argv[2]) : 2000;
  uint64_t seed = argc > 3 ? std::stoull(argv[3]) : 1;
  auto loaded = app::load_config(argv[1], 1);
  if (!loaded->geoip) {
    std::fprintf(stderr, "map_stats: the configuration has no GeoIP database\n");
    return 1;
  }
  report(*loaded, "first places", 0, samples, seed);
  report(*loaded, "full ranking", 1u << 16, samples, seed);
  return 0;
}
