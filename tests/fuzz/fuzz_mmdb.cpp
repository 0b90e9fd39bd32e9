// libFuzzer target for GeoIP databases: any file given as a database is refused
// with a GeoIpError or read; lookups of both families in a database that opened
// give a location or none, never a crash. The tree walk that compiles the steering
// map either refuses the file or finds, for every address looked up, the location
// lookup() finds. The seeds are the project's fixtures in
// both record layouts (flat DB-IP, nested MaxMind), written by
// tools/make-mmdb-fixtures.pl, so mutations explore records of both.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "steering/geoip.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/geosteer-fuzz-mmdb-" + std::to_string(getpid()) + ".mmdb";
  return path;
}

bool write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  bool ok = std::fwrite(data, 1, size, file) == size;
  return std::fclose(file) == 0 && ok;
}

bool same_location(const geosteer::steering::Location& a, const geosteer::steering::Location& b) {
  if (std::strcmp(a.country, b.country) != 0 || std::strcmp(a.continent, b.continent) != 0) return false;
  if (a.coordinates.has_value() != b.coordinates.has_value()) return false;
  return !a.coordinates || (a.coordinates->lat == b.coordinates->lat && a.coordinates->lon == b.coordinates->lon);
}

void check_walk_agrees_with_lookup(const geosteer::steering::GeoIp& geoip) {
  using namespace geosteer;
  for (Family family : {Family::V4, Family::V6}) {
    std::optional<steering::LocatedPartition> walked;
    try {
      walked = geoip.partition(family);
    } catch (const steering::GeoIpError&) {
      continue;  // a damaged tree is refused at load: fine
    }
    for (const char* text : {"130.149.7.1", "8.8.8.8", "0.0.0.0", "255.255.255.255", "2001:638:809::1",
                             "2400:cb00::1", "ffff::1"}) {
      IpAddress address = *IpAddress::parse(text);
      if (address.family != family) continue;
      steering::GeoResult looked_up = geoip.lookup(address);
      uint32_t index = walked->partition.value(walked->partition.find(steering::to_number(address)));
      // An IPv6 walk leaves out every place the tree hangs its IPv4 subtree, which
      // lookup() follows: nothing to compare there.
      if (family == Family::V6 && index == 0) continue;
      // lookup() passes over a tree it cannot read; the walk refuses it instead.
      if (looked_up.database >= 0 && !same_location(walked->locations[index], looked_up.location)) {
        std::abort();
      }
    }
  }
}

// The same for AS numbers, when the file is recognised as an ASN database: the walk
// and lookup() must agree wherever lookup() can read the tree.
void check_asn_walk_agrees_with_lookup(const geosteer::steering::GeoIp& geoip) {
  using namespace geosteer;
  if (!geoip.has_asn_data()) return;
  for (Family family : {Family::V4, Family::V6}) {
    std::optional<steering::AsnPartition> walked;
    try {
      walked = geoip.asn_partition(family);
    } catch (const steering::GeoIpError&) {
      continue;
    }
    for (const char* text : {"130.149.7.1", "8.8.8.8", "0.0.0.0", "255.255.255.255", "2001:638:809::1",
                             "2400:cb00::1", "ffff::1"}) {
      IpAddress address = *IpAddress::parse(text);
      if (address.family != family) continue;
      uint32_t asn = walked->partition.value(walked->partition.find(steering::to_number(address)));
      if (family == Family::V6 && asn == 0) continue;  // the IPv4 subtree, left out of the walk
      steering::GeoResult looked_up = geoip.lookup(address);
      if (looked_up.asn != 0 && looked_up.asn != asn) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace geosteer;
  if (!write_file(scratch_path(), data, size)) std::abort();
  std::shared_ptr<const steering::GeoIp> geoip;
  try {
    geoip = steering::GeoIp::open({scratch_path()});
  } catch (const steering::GeoIpError&) {
    return 0;
  }
  for (const char* text : {"130.149.7.1", "8.8.8.8", "0.0.0.0", "255.255.255.255", "2001:638:809::1",
                           "::1", "::ffff:1.2.3.4", "2400:cb00::1"}) {
    steering::GeoResult result = geoip->lookup(*IpAddress::parse(text));
    const auto& location = result.location;
    if (location.country[2] != '\0' || location.continent[2] != '\0') std::abort();
    if (location.coordinates && (!(std::fabs(location.coordinates->lat) <= 90) ||
                                 !(std::fabs(location.coordinates->lon) <= 180))) {
      std::abort();
    }
    if (result.network.length > (result.network.address.family == Family::V4 ? 32 : 128)) std::abort();
  }
  check_walk_agrees_with_lookup(*geoip);
  check_asn_walk_agrees_with_lookup(*geoip);
  return 0;
}
