#include "steering/geoip.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace geosteer::steering {
namespace {

// libmaxminddb looks IPv4 addresses up in an IPv6 tree under ::/96 and reports the
// netmask in IPv6 bits, so the IPv4 prefix length is the netmask minus these bits.
constexpr unsigned kIpv4InIpv6Bits = 96;

// Record paths, as null-terminated arrays for MMDB_aget_value: unlike MMDB_get_value
// (which copies its variadic path into a heap array) it does not allocate.
constexpr const char* kFlatCountry[] = {"country_code", nullptr};
constexpr const char* kFlatLatitude[] = {"latitude", nullptr};
constexpr const char* kFlatLongitude[] = {"longitude", nullptr};
constexpr const char* kNestedCountry[] = {"country", "iso_code", nullptr};
constexpr const char* kNestedContinent[] = {"continent", "code", nullptr};
constexpr const char* kNestedLatitude[] = {"location", "latitude", nullptr};
constexpr const char* kNestedLongitude[] = {"location", "longitude", nullptr};

std::string open_error_message(const std::string& path, int status) {
  std::string message = "cannot open GeoIP database " + path + ": " + MMDB_strerror(status);
  if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR) {
    message += std::string(" (") + std::strerror(errno) + ")";
  }
  return message;
}

DatabaseInfo describe(const std::string& path, const MMDB_s& db) {
  const char* type = db.metadata.database_type;
  return DatabaseInfo{path, type != nullptr ? type : "", db.metadata.build_epoch,
                      db.metadata.ip_version};
}

// An IPv4 database has no room for IPv6 addresses; an IPv6 one holds both families.
bool covers(const MMDB_s& db, Family family) {
  return family == Family::V4 || db.metadata.ip_version == 6;
}

// The address as a socket address, the form MMDB_lookup_sockaddr takes.
void to_sockaddr(const IpAddress& address, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof storage);
  if (address.family == Family::V4) {
    auto& in = reinterpret_cast<sockaddr_in&>(storage);
    in.sin_family = AF_INET;
    std::memcpy(&in.sin_addr, address.bytes.data(), 4);
  } else {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(storage);
    in6.sin6_family = AF_INET6;
    std::memcpy(&in6.sin6_addr, address.bytes.data(), 16);
  }
}

// Prefix length, in the address's own family, of the network a lookup landed in.
unsigned network_length(const MMDB_s& db, Family family, uint16_t netmask) {
  unsigned length = netmask;
  if (family == Family::V4 && db.metadata.ip_version == 6) {
    // An IPv6 tree without IPv4 data may end the search above ::/96; the whole IPv4
    // space is then one empty network.
    length = length > kIpv4InIpv6Bits ? length - kIpv4InIpv6Bits : 0;
  }
  return std::min(length, family == Family::V4 ? 32u : 128u);
}

// Reads a two-letter code ("DE", "EU") into `out`, upper-cased; false when the
// record has no such field or it is not a two-letter string.
bool read_code(MMDB_entry_s& entry, const char* const* path, char (&out)[3]) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2) {
    return false;
  }
  char code[3] = {};
  for (int i = 0; i < 2; ++i) {
    char c = data.utf8_string[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return false;
    code[i] = c;
  }
  std::memcpy(out, code, sizeof code);
  return true;
}

// DB-IP stores coordinates as float, MaxMind as double; both are accepted.
std::optional<double> read_degrees(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  double value;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) {
    value = data.double_value;
  } else if (data.type == MMDB_DATA_TYPE_FLOAT) {
    value = data.float_value;
  } else {
    return std::nullopt;
  }
  return std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

std::optional<Coordinates> read_coordinates(MMDB_entry_s& entry, const char* const* lat_path,
                                            const char* const* lon_path) {
  auto lat = read_degrees(entry, lat_path);
  auto lon = read_degrees(entry, lon_path);
  if (!lat || !lon || std::fabs(*lat) > 90 || std::fabs(*lon) > 180) return std::nullopt;
  return Coordinates{*lat, *lon};
}

// A record in either layout; missing or malformed fields leave their part unknown.
Location read_location(MMDB_entry_s entry) {
  Location location;
  if (!read_code(entry, kFlatCountry, location.country)) {
    read_code(entry, kNestedCountry, location.country);
  }
  if (!read_code(entry, kNestedContinent, location.continent) ||
      !is_known_continent(location.continent)) {
    std::strcpy(location.continent, continent_of_country(location.country));
  }
  location.coordinates = read_coordinates(entry, kFlatLatitude, kFlatLongitude);
  if (!location.coordinates) {
    location.coordinates = read_coordinates(entry, kNestedLatitude, kNestedLongitude);
  }
  return location;
}

}  // namespace

std::shared_ptr<const GeoIp> GeoIp::open(const std::vector<std::string>& paths) {
  // Not make_shared: the constructor is private. Databases opened before a failure
  // are closed by the destructor when `geoip` goes out of scope.
  std::shared_ptr<GeoIp> geoip(new GeoIp());
  for (size_t i = 0; i < paths.size(); ++i) {
    auto db = std::make_unique<MMDB_s>();
    int status = MMDB_open(paths[i].c_str(), MMDB_MODE_MMAP, db.get());
    if (status != MMDB_SUCCESS) throw GeoIpError(i, open_error_message(paths[i], status));
    unsigned ip_version = db->metadata.ip_version;
    if (ip_version != 4 && ip_version != 6) {
      MMDB_close(db.get());
      throw GeoIpError(i, "GeoIP database " + paths[i] + " has ip_version " +
                              std::to_string(ip_version) + " in its metadata; expected 4 or 6");
    }
    geoip->info_.push_back(describe(paths[i], *db));
    geoip->dbs_.push_back(std::move(db));
  }
  return geoip;
}

GeoIp::~GeoIp() {
  for (auto& db : dbs_) MMDB_close(db.get());
}

// The network reported is the intersection of what every consulted database said:
// the empty networks of those that had no record and the record's network of the one
// that answered. All of them contain the address, so the intersection is the longest,
// and every address inside it gets the same answer from this function; that is what
// an ECS scope built on it needs.
GeoResult GeoIp::lookup(const IpAddress& address) const {
  GeoResult result;
  sockaddr_storage storage;
  to_sockaddr(address, storage);
  unsigned length = 0;
  for (size_t i = 0; i < dbs_.size(); ++i) {
    const MMDB_s& db = *dbs_[i];
    if (!covers(db, address.family)) continue;
    int error = MMDB_SUCCESS;
    MMDB_lookup_result_s found =
        MMDB_lookup_sockaddr(&db, reinterpret_cast<const sockaddr*>(&storage), &error);
    if (error != MMDB_SUCCESS) continue;  // a corrupt tree: as if the database were absent
    length = std::max(length, network_length(db, address.family, found.netmask));
    if (result.database < 0 || found.found_entry) result.database = static_cast<int>(i);
    if (found.found_entry) {
      result.location = read_location(found.entry);
      break;
    }
  }
  result.network = IpPrefix{address.masked(length), static_cast<uint8_t>(length)};
  return result;
}

}  // namespace geosteer::steering
