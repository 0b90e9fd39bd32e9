// Static zone data compiled from the configuration into lookup structures that
// the query path reads without allocating: owners and RDATA in wire format,
// nodes in a hash map keyed by canonical (lower-case) wire name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zones/config.h"

namespace geosteer::zones {

namespace rrtype {
constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, HINFO = 13, MX = 15, TXT = 16,
                   AAAA = 28, SRV = 33, DNAME = 39, OPT = 41, DS = 43, ANY = 255;
}

struct RRset {
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<std::string> rdata;  // each one uncompressed wire-format RDATA
};

struct Node {
  std::string owner;  // canonical wire name
  std::vector<RRset> rrsets;
  int service = -1;  // global service index (see service_order()), or -1
  // At `_geosteer.<service name>`: the service whose steering this name's TXT
  // explains to the asking client (see explain_name()), or -1.
  int explains = -1;

  const RRset* find(uint16_t type) const;
};

struct Lookup {
  enum class Kind {
    Found,       // `node` is the name (or the wildcard that matched it when `wildcard`)
    EmptyNonTerminal,  // the name exists only because names below it do: NODATA
    NxDomain,    // no such name
    Delegation,  // `node` is a zone cut (NS below the apex) at or above the name
  };
  Kind kind = Kind::NxDomain;
  const Node* node = nullptr;
  bool wildcard = false;
};

class Zone {
 public:
  const std::string& origin() const { return origin_; }  // canonical wire name
  const Node& apex() const;
  const RRset& soa() const;
  // TTL of negative answers: min(SOA TTL, SOA MINIMUM), RFC 2308 section 5.
  uint32_t negative_ttl() const;
  // `qname` must be canonical and at or below origin().
  Lookup lookup(std::string_view qname) const;
  // Exact node lookup, nullptr when absent (used for glue and CNAME chasing).
  const Node* find_node(std::string_view name) const;

 private:
  friend class ZoneBuilder;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::string origin_;
  std::unordered_map<std::string, Node, Hash, std::equal_to<>> nodes_;
  // Names that exist only as ancestors of other names (empty non-terminals).
  std::unordered_map<std::string, bool, Hash, std::equal_to<>> empty_non_terminals_;
  bool has_delegations_ = false;  // lets lookup() skip the zone-cut walk in the common case
};

class ZoneSet {
 public:
  // The zone with the longest origin at or above `qname` (canonical), or nullptr.
  const Zone* find(std::string_view qname) const;
  const std::vector<Zone>& zones() const { return zones_; }

 private:
  friend ZoneSet compile_zones(const Config&);
  friend class ZoneBuilder;  // tests build zone sets without the compiler
  std::vector<Zone> zones_;
};

// Assembles a Zone from wire-format data and checks nothing but duplicates:
// compile_zones() uses it once the configuration is validated, and tests use it to
// build zones directly. The caller puts SOA and NS at the origin.
class ZoneBuilder {
 public:
  explicit ZoneBuilder(std::string_view origin);  // canonical wire name

  // Adds one RR; `owner` is canonical and at or below the origin, `rdata` uncompressed
  // wire format. Identical RRs merge. Returns false when the RRset already had a
  // different TTL; it then keeps the smaller one.
  bool add(std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rdata);
  // Makes `owner` (canonical) the name of service `index` (see service_order()),
  // and explain_name(owner), when it is a valid name, the name explaining it.
  void add_service(std::string_view owner, int index);
  // Computes the empty non-terminals and notes the zone cuts; the builder is spent.
  Zone finish();

  static ZoneSet make_set(std::vector<Zone> zones);

 private:
  Node& node(std::string_view owner);
  Zone zone_;
};

// `_geosteer.<service owner>` in canonical wire form: the name whose TXT explains
// the service's answer to the client asking. Empty when that would be longer than
// a name may be (RFC 1035 section 3.1). The leading underscore keeps it clear of
// host names (RFC 8552).
std::string explain_name(std::string_view service_owner);

// Services in the global order the rest of the program indexes them by:
// zone by zone, service by service, as in the configuration.
std::vector<const Service*> service_order(const Config& config);

// Parses every record (with ldns), reads zone files, checks names are inside their
// zone and data is consistent (CNAME with other data, records clashing with a
// service's A/AAAA, SOA or apex NS in records). Throws ConfigErrors.
ZoneSet compile_zones(const Config& config);

}  // namespace geosteer::zones
