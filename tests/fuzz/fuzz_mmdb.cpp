// libFuzzer target for GeoIP databases: any file given as a database is refused
// with a GeoIpError or read; lookups of both families in a database that opened
// give a location or none, never a crash. The seeds are the project's fixtures in
// both record layouts (flat DB-IP, nested MaxMind), written by
// tools/make-mmdb-fixtures.pl, so mutations explore records of both.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
  return 0;
}
