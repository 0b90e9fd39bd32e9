#include "steering/geoip.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <unordered_map>

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
constexpr const char* kAsnNumber[] = {"autonomous_system_number", nullptr};
constexpr const char* kAsnOrganization[] = {"autonomous_system_organization", nullptr};

std::string open_error_message(const std::string& path, int status) {
  std::string message = "cannot open GeoIP database " + path + ": " + MMDB_strerror(status);
  if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR) {
    message += std::string(" (") + std::strerror(errno) + ")";
  }
  return message;
}

// The AS number of a record, 0 when it has none (or one no AS can have: 0 and
// 4294967295 are reserved, RFC 7607 and RFC 7300). Any unsigned integer type will do:
// the MMDB format lets a writer pick the smallest that holds the value.
uint32_t read_asn(MMDB_entry_s entry) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, kAsnNumber) != MMDB_SUCCESS || !data.has_data) return 0;
  uint64_t asn;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16: asn = data.uint16; break;
    case MMDB_DATA_TYPE_UINT32: asn = data.uint32; break;
    case MMDB_DATA_TYPE_UINT64: asn = data.uint64; break;
    case MMDB_DATA_TYPE_INT32: asn = data.int32 > 0 ? static_cast<uint64_t>(data.int32) : 0; break;
#if MMDB_UINT128_IS_BYTE_ARRAY
    case MMDB_DATA_TYPE_UINT128: {
      asn = 0;
      for (int i = 8; i < 16; ++i) asn = asn << 8 | data.uint128[i];
      if (std::any_of(data.uint128, data.uint128 + 8, [](uint8_t b) { return b != 0; })) asn = UINT64_MAX;
      break;
    }
#else
    case MMDB_DATA_TYPE_UINT128: asn = data.uint128 >> 64 != 0 ? UINT64_MAX : static_cast<uint64_t>(data.uint128); break;
#endif
    default: return 0;
  }
  return asn < UINT32_MAX ? static_cast<uint32_t>(asn) : 0;
}

std::string_view read_asn_organization(MMDB_entry_s entry) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, kAsnOrganization) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return {};
  }
  return {data.utf8_string, data.data_size};
}

// Whether a record holds anything of a city database's, in either layout.
bool has_location_fields(MMDB_entry_s entry) {
  for (const char* const* path : {kFlatCountry, kFlatLatitude, kNestedCountry, kNestedLatitude}) {
    MMDB_entry_data_s data;
    // The first key of the path is enough: country_code, latitude, country, location.
    const char* first[] = {path[0], nullptr};
    if (MMDB_aget_value(&entry, &data, first) == MMDB_SUCCESS && data.has_data) return true;
  }
  return false;
}

// The kind of a database, from its records: an ASN database when some of the first
// records hold an AS number and none holds a location field (a city database with
// AS numbers added is still a city database; an ASN database with a record that
// lacks its number is still an ASN database). A tree without any record is a
// (useless) city database.
DatabaseKind kind_of(const MMDB_s& db) {
  constexpr int kRecordsLooked = 64;
  int asn_records = 0, city_records = 0, records = 0;
  // Depth first over a bounded number of nodes: a corrupt tree is reported by the
  // walk, not here.
  std::vector<uint32_t> pending{0};
  for (int visited = 0; !pending.empty() && visited < 100000 && records < kRecordsLooked; ++visited) {
    MMDB_search_node_s node;
    if (MMDB_read_node(&db, pending.back(), &node) != MMDB_SUCCESS) break;
    pending.pop_back();
    for (int side = 0; side < 2; ++side) {
      uint8_t type = side == 0 ? node.left_record_type : node.right_record_type;
      if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
        pending.push_back(static_cast<uint32_t>(side == 0 ? node.left_record : node.right_record));
      } else if (type == MMDB_RECORD_TYPE_DATA) {
        MMDB_entry_s entry = side == 0 ? node.left_record_entry : node.right_record_entry;
        ++records;
        asn_records += read_asn(entry) != 0 ? 1 : 0;
        city_records += has_location_fields(entry) ? 1 : 0;
      }
    }
  }
  return asn_records > 0 && city_records == 0 ? DatabaseKind::Asn : DatabaseKind::City;
}

DatabaseInfo describe(const std::string& path, const MMDB_s& db) {
  const char* type = db.metadata.database_type;
  return DatabaseInfo{path, kind_of(db), type != nullptr ? type : "", db.metadata.build_epoch,
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

// Record offset -> location index, for the millions of networks a walk meets: open
// addressing over one flat array, several times faster here than std::unordered_map.
class RecordIndex {
 public:
  // The index stored for `offset`; 0 (no location yet) when it was not there, for
  // the caller to set. The reference is valid until the next call, which may grow.
  uint32_t& find_or_add(uint32_t offset) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = hash(offset) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.index == 0) {
        slot.offset = offset;
        ++used_;
        return slot.index;
      }
      if (slot.offset == offset) return slot.index;
    }
  }

 private:
  struct Slot {
    uint32_t offset = 0;
    uint32_t index = 0;  // 0: empty (location 0 is never stored)
  };
  static size_t hash(uint32_t x) { return (x * uint64_t{0x9E3779B97F4A7C15}) >> 32; }

  // Keeps the table at most half full, so probes stay short.
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.index == 0) continue;
      size_t i = hash(s.offset) & mask;
      while (slots_[i].index != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;
};

// Walks one database's search tree in address order, appending every network it
// holds to a partition: the value `record_value` gives its record (read once per
// record, however many networks share it), or 0 where the tree has no record.
template <typename RecordValue>
class TreeWalk {
 public:
  TreeWalk(const MMDB_s& db, size_t db_index, const std::string& path, RecordValue record_value,
           size_t& networks)
      : db_(db), db_index_(db_index), path_(path), record_value_(record_value), networks_(networks) {}

  Partition walk(Family family) {
    Partition out(family);
    // A tree has at most one network more than nodes; the reservation is only touched
    // as far as it is used.
    out.reserve(static_cast<size_t>(db_.metadata.node_count) + 1);
    out_ = &out;
    bits_ = family_bits(family);
    std::optional<uint32_t> ipv4_root;
    if (db_.metadata.ip_version == 6) {
      // IPv4 lives under ::/96 of an IPv6 tree: follow 96 zero bits to its root.
      uint32_t node = 0;
      for (unsigned depth = 0; depth < kIpv4InIpv6Bits; ++depth) {
        MMDB_search_node_s n = read(node);
        if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
          if (family == Family::V4) {
            leaf(0, n.left_record_type, n.left_record_entry);  // one record for all of IPv4
            return out;
          }
          break;
        }
        node = static_cast<uint32_t>(n.left_record);
        if (depth + 1 == kIpv4InIpv6Bits) ipv4_root = node;
      }
      if (family == Family::V4) {
        visit(*ipv4_root, 0, 0);
        return out;
      }
    }
    // In an IPv6 walk the IPv4 subtree is left out wherever it hangs: at ::/96 and at
    // the aliases MaxMind databases point to it (::ffff:0:0/96, 2001::/32, 2002::/16).
    // Those are IPv4 clients in disguise, which resolvers send as IPv4 subnets; walking
    // the IPv4 data four more times would only multiply the map.
    skipped_node_ = ipv4_root;
    visit(0, 0, 0);
    return out;
  }

 private:
  MMDB_search_node_s read(uint32_t node) {
    MMDB_search_node_s n;
    int status = MMDB_read_node(&db_, node, &n);
    if (status != MMDB_SUCCESS) fail(std::string("cannot read its search tree: ") + MMDB_strerror(status));
    return n;
  }

  void visit(uint32_t node, Address128 prefix, unsigned depth) {
    if (depth >= bits_) fail("its search tree is deeper than an address is long");
    MMDB_search_node_s n = read(node);
    Address128 right = prefix | (Address128{1} << (bits_ - depth - 1));
    child(n.left_record_type, n.left_record, n.left_record_entry, prefix, depth + 1);
    child(n.right_record_type, n.right_record, n.right_record_entry, right, depth + 1);
  }

  void child(uint8_t type, uint64_t record, const MMDB_entry_s& entry, Address128 prefix,
             unsigned depth) {
    if (type == MMDB_RECORD_TYPE_SEARCH_NODE && skipped_node_ == record) {
      out_->append(prefix, 0);
    } else if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
      visit(static_cast<uint32_t>(record), prefix, depth);
    } else {
      leaf(prefix, type, entry);
    }
  }

  void leaf(Address128 start, uint8_t type, const MMDB_entry_s& entry) {
    if (++networks_ > GeoIp::kMaxWalkedNetworks) {
      fail("its search tree holds more than " + std::to_string(GeoIp::kMaxWalkedNetworks) +
           " networks");
    }
    // A tree has one network more than nodes; branches that meet again (the IPv4
    // aliases are left out already) would multiply the walk, up to 2^128 networks.
    if (++own_networks_ > 2 * uint64_t{db_.metadata.node_count} + 2) {
      fail("its search tree has more networks than nodes: branches meet or loop");
    }
    if (type == MMDB_RECORD_TYPE_EMPTY) {
      out_->append(start, 0);
    } else if (type == MMDB_RECORD_TYPE_DATA) {
      out_->append(start, value_of(entry));
    } else {
      fail("its search tree points outside the file");
    }
  }

  // The index keeps value + 1: 0 marks a record not read yet.
  uint32_t value_of(const MMDB_entry_s& entry) {
    uint32_t& known = known_.find_or_add(entry.offset);
    if (known == 0) known = record_value_(entry) + 1;
    return known - 1;
  }

  [[noreturn]] void fail(const std::string& what) {
    throw GeoIpError(db_index_, "GeoIP database " + path_ + ": " + what);
  }

  const MMDB_s& db_;
  size_t db_index_;
  const std::string& path_;
  RecordValue record_value_;
  size_t& networks_;        // of every database walked for the family
  uint64_t own_networks_ = 0;
  RecordIndex known_;
  Partition* out_ = nullptr;
  unsigned bits_ = 0;
  std::optional<uint32_t> skipped_node_;  // the IPv4 root, in an IPv6 walk
};

}  // namespace

// Every address's value in the databases of one kind that cover the family: the
// first database with a record wins, as in lookup().
template <typename RecordValue>
Partition GeoIp::walk(Family family, DatabaseKind kind, RecordValue record_value) const {
  Partition result(family);
  result.append(0, 0);
  size_t networks = 0;
  bool walked_any = false;
  for (size_t i = 0; i < dbs_.size(); ++i) {
    if (info_[i].kind != kind || !covers(*dbs_[i], family)) continue;
    TreeWalk walk(*dbs_[i], i, info_[i].path, record_value, networks);
    Partition db_partition = walk.walk(family);
    if (!walked_any) {
      result = std::move(db_partition);  // the first database: nothing to refine
      walked_any = true;
      continue;
    }
    result = refine(result, db_partition,
                    [](uint32_t earlier, uint32_t later) { return earlier != 0 ? earlier : later; });
  }
  return result;
}

LocatedPartition GeoIp::partition(Family family) const {
  LocatedPartition result{{Location{}}, Partition(family), UINT32_MAX};
  std::vector<Location>& locations = result.locations;
  // One Location per record. Even a record without any field we read wins over later
  // databases, as in lookup(): it is the database's answer for the network.
  result.partition = walk(family, DatabaseKind::City, [&locations](const MMDB_entry_s& entry) {
    locations.push_back(read_location(entry));
    return static_cast<uint32_t>(locations.size() - 1);
  });
  return result;
}

AsnPartition GeoIp::asn_partition(Family family) const {
  return {walk(family, DatabaseKind::Asn, [](const MMDB_entry_s& entry) { return read_asn(entry); })};
}

bool GeoIp::has_asn_data() const {
  return std::any_of(info_.begin(), info_.end(),
                     [](const DatabaseInfo& db) { return db.kind == DatabaseKind::Asn; });
}

const char* to_string(DatabaseKind kind) { return kind == DatabaseKind::Asn ? "asn" : "city"; }

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
  bool located = false, asn_found = false;
  for (size_t i = 0; i < dbs_.size(); ++i) {
    const MMDB_s& db = *dbs_[i];
    bool city = info_[i].kind == DatabaseKind::City;
    if (!covers(db, address.family) || (city ? located : asn_found)) continue;
    int error = MMDB_SUCCESS;
    MMDB_lookup_result_s found =
        MMDB_lookup_sockaddr(&db, reinterpret_cast<const sockaddr*>(&storage), &error);
    if (error != MMDB_SUCCESS) continue;  // a corrupt tree: as if the database were absent
    length = std::max(length, network_length(db, address.family, found.netmask));
    if (city && (result.database < 0 || found.found_entry)) result.database = static_cast<int>(i);
    if (!found.found_entry) continue;
    if (city) {
      result.location = read_location(found.entry);
      located = true;
    } else if (uint32_t asn = read_asn(found.entry); asn != 0) {
      // A record without a usable number leaves the address to later databases, as
      // in the walk the steering map is built from.
      result.asn = asn;
      result.asn_organization = read_asn_organization(found.entry);
      asn_found = true;
    }
  }
  result.network = IpPrefix{address.masked(length), static_cast<uint8_t>(length)};
  return result;
}

}  // namespace geosteer::steering
