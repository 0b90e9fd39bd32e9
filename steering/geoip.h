// Read-only GeoIP lookups in MaxMind-format (MMDB) databases, through libmaxminddb.
// Understands both record layouts:
//   flat   (DB-IP Lite via ip-location-db): country_code, latitude, longitude
//   nested (MaxMind GeoLite2/GeoIP2 City):  country.iso_code, continent.code,
//                                           location.latitude, location.longitude
// Lookups neither allocate nor lock; the databases are memory-mapped.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/countries.h"
#include "common/ip.h"
#include "steering/partition.h"

struct MMDB_s;

namespace geosteer::steering {

struct Coordinates {
  double lat = 0, lon = 0;
};

struct Location {
  std::optional<Coordinates> coordinates;
  char country[3] = {};    // ISO 3166-1 alpha-2, "" when unknown
  char continent[3] = {};  // AF AN AS EU NA OC SA (from the record, else from the country)

  bool known() const { return coordinates.has_value() || country[0] != '\0'; }
};

struct GeoResult {
  Location location;
  // From the ASN databases: 0 when none has a record for the address.
  uint32_t asn = 0;
  std::string_view asn_organization;  // in the database's memory: valid while it is open
  // The database network that contains the address (for ECS scope): always set,
  // also when the address has no record (then it is the empty network around it).
  IpPrefix network;
  int database = -1;  // index of the database that answered, -1 when none covers the family
};

class GeoIpError : public std::runtime_error {
 public:
  GeoIpError(size_t database_index, const std::string& message)
      : std::runtime_error(message), database_index(database_index) {}
  size_t database_index;
};

// What lookup() answers for every address of a family, as ranges: the partition's
// values index `locations`, where 0 is "no record".
struct LocatedPartition {
  std::vector<Location> locations;
  Partition partition;
  // The steering map's own marker for ::ffff:0:0/96 in IPv6 partitions, if set.
  uint32_t ipv4_mapped = UINT32_MAX;
};

// What a database's records hold, recognised by the records themselves: a record
// with `autonomous_system_number` (MaxMind GeoLite2-ASN layout) makes an ASN
// database, anything else a city one (either layout).
enum class DatabaseKind { City, Asn };
const char* to_string(DatabaseKind kind);

// The ASN of every address, as ranges: the partition's values are AS numbers, 0
// where no ASN database has a record.
struct AsnPartition {
  Partition partition;
};

struct DatabaseInfo {
  std::string path;
  DatabaseKind kind = DatabaseKind::City;
  std::string type;      // metadata database_type
  uint64_t build_epoch;  // metadata build_epoch, seconds
  unsigned ip_version;   // 4 or 6
};

class GeoIp {
 public:
  // Opens every database; throws GeoIpError naming the first one that cannot be read
  // or is not an IPv4 or IPv6 MaxMind DB. Records missing some field simply give a
  // location without it.
  static std::shared_ptr<const GeoIp> open(const std::vector<std::string>& paths);
  ~GeoIp();
  GeoIp(const GeoIp&) = delete;
  GeoIp& operator=(const GeoIp&) = delete;

  // Tries the city databases in order, IPv4-only ones for IPv4 addresses only; the
  // first that has a record for the address wins. The ASN databases likewise give
  // the ASN.
  GeoResult lookup(const IpAddress& address) const;
  bool has_asn_data() const;
  const std::vector<DatabaseInfo>& databases() const { return info_; }

  // Walks the search trees of every database that covers the family, once, and
  // returns the location of every address as lookup() would find it (the first
  // database with a record wins), except that IPv6 addresses the database maps onto
  // its IPv4 data (::/96 and the aliases ::ffff:0:0/96, 2001::/32, 2002::/16 of
  // MaxMind databases) have none. Records shared by many networks are read once.
  // Throws GeoIpError for a corrupt tree, or one with more networks than
  // kMaxWalkedNetworks (a malformed file can make a tree exponentially large).
  LocatedPartition partition(Family family) const;
  // The same walk over the ASN databases.
  AsnPartition asn_partition(Family family) const;
  static constexpr size_t kMaxWalkedNetworks = size_t{1} << 26;

 private:
  GeoIp() = default;
  template <typename RecordValue>
  Partition walk(Family family, DatabaseKind kind, RecordValue record_value) const;
  std::vector<std::unique_ptr<MMDB_s>> dbs_;
  std::vector<DatabaseInfo> info_;
};

using geosteer::continent_of_country;
using geosteer::is_known_continent;
using geosteer::is_known_country;

}  // namespace geosteer::steering
