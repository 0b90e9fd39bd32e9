// compile_zones(): turns the validated configuration's zone data (records, zone
// files, SOA, NS, services) into Zones, checking that the data makes a consistent
// zone. Record syntax is ldns's; every problem becomes a ConfigError.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "common/dname.h"
#include "common/log.h"
#include "zones/zone.h"

// Without __bool_true_false_are_defined, which <stdbool.h> sets, ldns #defines `bool`,
// `true` and `false`, and that breaks standard headers included after it.
#include <stdbool.h>
#include <ldns/ldns.h>

namespace geosteer::zones {
namespace {

// ldns falls back to its own default (3600) when asked for a default TTL of 0, so a
// zone with `ttl: 0` parses with this stand-in instead. RFC 2181 section 8 reads
// TTLs with the top bit set as zero anyway.
constexpr uint32_t kZeroTtlStandIn = UINT32_MAX;
// A zone file this broken is better fixed from the first errors.
constexpr size_t kMaxErrorsPerFile = 50;

struct LdnsFree {
  void operator()(ldns_rdf* p) const { ldns_rdf_deep_free(p); }
  void operator()(ldns_rr* p) const { ldns_rr_free(p); }
  void operator()(ldns_buffer* p) const { ldns_buffer_free(p); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsFree>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsFree>;
using BufferPtr = std::unique_ptr<ldns_buffer, LdnsFree>;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

// ldns hands out in-out name slots (origin, previous owner) that it may replace.
struct RdfSlot {
  ldns_rdf* rdf = nullptr;
  RdfSlot() = default;
  explicit RdfSlot(ldns_rdf* r) : rdf(r) {}
  RdfSlot(const RdfSlot&) = delete;
  RdfSlot& operator=(const RdfSlot&) = delete;
  ~RdfSlot() {
    if (rdf) ldns_rdf_deep_free(rdf);
  }
};

std::string type_name(uint16_t type) {
  char* text = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
  std::string name = text ? text : "TYPE" + std::to_string(type);
  std::free(text);
  return name;
}

std::string class_name(uint16_t rr_class) {
  char* text = ldns_rr_class2str(static_cast<ldns_rr_class>(rr_class));
  std::string name = text ? text : "CLASS" + std::to_string(rr_class);
  std::free(text);
  return name;
}

// Appended piece by piece: `"'" + std::string(s)` trips GCC 12's false -Wrestrict
// at -O3 (GCC bug 105329).
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}
std::string name_text(std::string_view wire) { return quoted(dname::to_text(wire)); }

void append_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

struct ParsedRecord {
  std::string owner;  // canonical wire
  uint16_t type = 0;
  uint16_t rr_class = 0;
  uint32_t ttl = 0;
  std::string rdata;  // uncompressed wire
  SourcePos pos;

  std::string describe() const { return name_text(owner) + " " + type_name(type); }
};

ParsedRecord to_record(const ldns_rr* rr, SourcePos pos, bool zero_default_ttl) {
  ParsedRecord record;
  const ldns_rdf* owner = ldns_rr_owner(rr);
  record.owner = dname::lowercased(
      std::string_view(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner)));
  record.type = ldns_rr_get_type(rr);
  record.rr_class = ldns_rr_get_class(rr);
  record.ttl = ldns_rr_ttl(rr);
  if (zero_default_ttl && record.ttl == kZeroTtlStandIn) record.ttl = 0;
  BufferPtr buffer(ldns_buffer_new(LDNS_MAX_PACKETLEN));
  // Names inside RDATA come out uncompressed: ldns keeps them in wire form.
  ldns_rr_rdata2buffer_wire(buffer.get(), rr);
  record.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buffer.get())),
                      ldns_buffer_position(buffer.get()));
  record.pos = std::move(pos);
  return record;
}

class ZoneCompiler {
 public:
  ZoneCompiler(const ZoneConfig& config, int first_service, std::vector<ConfigError>& errors)
      : config_(config), first_service_(first_service), errors_(errors) {}

  Zone compile();

 private:
  void error(const SourcePos& pos, std::string message, std::string hint = {}) {
    errors_.push_back({pos, std::move(message), std::move(hint)});
  }
  std::optional<std::string> absolute_name(const std::string& text, std::string_view what);
  void resolve_services();
  void parse_records();
  void read_zonefile();
  void parse_zonefile(FILE* file, const std::string& path);
  void accept(ParsedRecord record);
  void check_cnames();
  void check_delegations();
  void add_apex(ZoneBuilder& builder);
  Zone build();

  const ZoneConfig& config_;
  int first_service_;
  std::vector<ConfigError>& errors_;
  std::string origin_;  // canonical wire
  RdfPtr origin_rdf_;
  std::map<std::string, const Service*> services_;  // fqdn wire -> service
  std::map<std::string, const Service*> explain_names_;  // _geosteer.<fqdn> wire -> service
  std::vector<ParsedRecord> records_;
};

std::optional<std::string> ZoneCompiler::absolute_name(const std::string& text,
                                                       std::string_view what) {
  auto wire = dname::from_text(text, origin_);
  if (!wire) error(config_.pos, std::string(what) + " " + quoted(text) + " is not a valid name");
  return wire;
}

Zone ZoneCompiler::compile() {
  auto origin = dname::from_text(config_.origin, std::string(1, '\0'));
  if (!origin) {
    error(config_.pos, "zone origin " + quoted(config_.origin) + " is not a valid name");
    return ZoneBuilder(std::string(1, '\0')).finish();
  }
  origin_ = *origin;
  origin_rdf_.reset(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, origin_.size(), origin_.data()));
  resolve_services();
  parse_records();
  read_zonefile();
  check_cnames();
  check_delegations();
  return build();
}

void ZoneCompiler::resolve_services() {
  for (const auto& service : config_.services) {
    auto wire = dname::from_text(service.fqdn, origin_);
    if (!wire || !dname::is_subdomain(*wire, origin_)) {
      error(service.pos, "service " + quoted(service.fqdn) + " is not inside zone " +
                             quoted(config_.origin));
      continue;
    }
    services_.emplace(*wire, &service);
    std::string explains = explain_name(*wire);
    if (explains.empty()) {
      error(service.pos, "service name " + quoted(service.fqdn) + " is too long",
            "geosteer explains its answers at '_geosteer." + service.fqdn +
                "', which must fit in 255 octets; shorten the name");
      continue;
    }
    explain_names_.emplace(std::move(explains), &service);
  }
  for (const auto& [name, explained] : explain_names_) {
    if (auto service = services_.find(name); service != services_.end()) {
      error(service->second->pos,
            "service " + quoted(service->second->fqdn) +
                " clashes with the explanation of service " + quoted(explained->fqdn),
            "that name answers TXT queries with how geosteer steers " +
                quoted(explained->fqdn) + "; rename the service");
    }
  }
}

void ZoneCompiler::parse_records() {
  bool zero_ttl = config_.ttl == 0;
  uint32_t default_ttl = zero_ttl ? kZeroTtlStandIn : config_.ttl;
  RdfSlot previous_owner;
  for (const auto& text : config_.records) {
    ldns_rr* raw = nullptr;
    ldns_status status = ldns_rr_new_frm_str(&raw, text.text.c_str(), default_ttl,
                                             origin_rdf_.get(), &previous_owner.rdf);
    RrPtr rr(raw);
    if (status != LDNS_STATUS_OK) {
      error(text.pos, "invalid record \"" + text.text + "\": " + ldns_get_errorstr_by_id(status));
      continue;
    }
    accept(to_record(rr.get(), text.pos, zero_ttl));
  }
}

void ZoneCompiler::read_zonefile() {
  if (!config_.zonefile) return;
  const std::string& path = *config_.zonefile;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error(config_.zonefile_pos,
          "cannot read zone file " + quoted(path) + ": " + std::strerror(errno),
          "relative paths are relative to the working directory");
    return;
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  if (text.empty()) return;
  // ldns counts a line when it reads its newline; a last line without one would be
  // reported as the line before.
  if (text.back() != '\n') text.push_back('\n');
  std::unique_ptr<FILE, FileCloser> file(fmemopen(text.data(), text.size(), "r"));
  if (!file) {
    error(config_.zonefile_pos, "cannot read zone file " + quoted(path) + ": " +
                                    std::strerror(errno));
    return;
  }
  parse_zonefile(file.get(), path);
}

// Record by record rather than ldns_zone_new_frm_fp_l(), which keeps no line
// numbers: every later check can then name the line of the record it rejects.
void ZoneCompiler::parse_zonefile(FILE* file, const std::string& path) {
  bool zero_ttl = config_.ttl == 0;
  uint32_t default_ttl = zero_ttl ? kZeroTtlStandIn : config_.ttl;
  RdfSlot origin(ldns_rdf_clone(origin_rdf_.get()));
  RdfSlot previous_owner(ldns_rdf_clone(origin_rdf_.get()));
  int line = 0;
  size_t errors_here = 0;
  while (!std::feof(file) && errors_here < kMaxErrorsPerFile) {
    ldns_rr* raw = nullptr;
    ldns_status status =
        ldns_rr_new_frm_fp_l(&raw, file, &default_ttl, &origin.rdf, &previous_owner.rdf, &line);
    RrPtr rr(raw);
    SourcePos pos{path, line, 0};
    switch (status) {
      case LDNS_STATUS_OK:
        accept(to_record(rr.get(), pos, zero_ttl));
        break;
      case LDNS_STATUS_SYNTAX_EMPTY:   // blank line or comment
      case LDNS_STATUS_SYNTAX_TTL:     // $TTL, applied by ldns
      case LDNS_STATUS_SYNTAX_ORIGIN:  // $ORIGIN, applied by ldns
        break;
      case LDNS_STATUS_SYNTAX_INCLUDE:
        error(pos, "$INCLUDE is not supported", "put the records in this file");
        ++errors_here;
        break;
      default:
        error(pos, std::string("invalid record: ") + ldns_get_errorstr_by_id(status));
        ++errors_here;
        break;
    }
  }
}

// Checks that need only the record itself; the record joins the zone when it passes.
void ZoneCompiler::accept(ParsedRecord record) {
  if (record.rr_class != LDNS_RR_CLASS_IN) {
    error(record.pos, "record " + record.describe() + " has class " + class_name(record.rr_class),
          "only class IN is served");
  } else if (!dname::is_subdomain(record.owner, origin_)) {
    error(record.pos, "record " + record.describe() + " is outside zone " + name_text(origin_),
          "records outside their zone are never served; write the owner relative to the origin");
  } else if (record.type == rrtype::SOA) {
    error(record.pos, "SOA record " + name_text(record.owner) + " is not allowed here",
          "the zone's SOA comes from soa:");
  } else if (record.type == rrtype::NS && record.owner == origin_) {
    error(record.pos, "NS record at the zone apex " + name_text(origin_) + " is not allowed here",
          "list the zone's name servers under ns:");
  } else if (record.type == rrtype::DNAME) {
    // Refused rather than served as plain data: a resolver that asks for a name below
    // the DNAME would get NXDOMAIN instead of the redirection (RFC 6672 section 3).
    error(record.pos, "DNAME record " + name_text(record.owner) + " is not supported",
          "geosteer does not synthesize DNAME redirections (RFC 6672); use a CNAME for each "
          "name instead");
  } else if (auto service = services_.find(record.owner);
             service != services_.end() &&
             (record.type == rrtype::A || record.type == rrtype::AAAA ||
              record.type == rrtype::CNAME)) {
    error(record.pos, "record " + record.describe() + " clashes with the service of that name",
          "the service answers A and AAAA for " + quoted(service->second->fqdn) +
              " itself; remove the record or rename the service");
  } else if (auto explained = explain_names_.find(record.owner);
             explained != explain_names_.end()) {
    error(record.pos,
          "record " + record.describe() + " clashes with the explanation of service " +
              quoted(explained->second->fqdn),
          "geosteer answers TXT at " + name_text(record.owner) +
              " itself, with how it steers the client asking; remove the record");
  } else {
    records_.push_back(std::move(record));
  }
}

// RFC 1034 section 3.6.2: a name with a CNAME has no other data, and one CNAME only.
void ZoneCompiler::check_cnames() {
  std::map<std::string_view, std::vector<const ParsedRecord*>> by_owner;
  for (const auto& r : records_) by_owner[r.owner].push_back(&r);
  for (const auto& [owner, records] : by_owner) {
    auto cname = std::find_if(records.begin(), records.end(),
                              [](const ParsedRecord* r) { return r->type == rrtype::CNAME; });
    if (cname == records.end()) continue;
    const SourcePos& pos = (*cname)->pos;
    if (owner == origin_) {
      error(pos, "CNAME at the zone apex " + name_text(owner),
            "the apex has SOA and NS records, and a CNAME cannot share its name");
      continue;
    }
    auto other = std::find_if(records.begin(), records.end(),
                              [](const ParsedRecord* r) { return r->type != rrtype::CNAME; });
    if (other != records.end()) {
      error(pos, "CNAME at " + name_text(owner) + " shares its name with a " +
                     type_name((*other)->type) + " record at " + (*other)->pos.str(),
            "a name with a CNAME can have no other data");
    }
    auto second = std::find_if(records.begin(), records.end(), [&](const ParsedRecord* r) {
      return r->type == rrtype::CNAME && r->rdata != (*cname)->rdata;
    });
    if (second != records.end()) {
      error((*second)->pos, "second CNAME at " + name_text(owner),
            "a name can have one CNAME only; the first is at " + pos.str());
    }
  }
}

// Below a zone cut the child zone answers; only glue addresses belong there.
void ZoneCompiler::check_delegations() {
  std::set<std::string_view> cuts;
  for (const auto& r : records_) {
    if (r.type == rrtype::NS) cuts.insert(r.owner);
  }
  if (cuts.empty()) return;
  auto cut_above = [&](std::string_view name) -> std::optional<std::string_view> {
    for (auto up = dname::parent(name); up.size() > origin_.size(); up = dname::parent(up)) {
      if (cuts.count(up)) return up;
    }
    return std::nullopt;
  };
  for (const auto& r : records_) {
    bool address = r.type == rrtype::A || r.type == rrtype::AAAA;
    if (auto cut = cut_above(r.owner); cut && !address) {
      error(r.pos, "record " + r.describe() + " lies below the delegation at " + name_text(*cut),
            "only A and AAAA glue may appear below a zone cut");
    } else if (cuts.count(r.owner) && !address && r.type != rrtype::NS && r.type != rrtype::DS) {
      error(r.pos, "record " + r.describe() + " sits at a delegation point",
            "only NS, DS and glue belong at a zone cut; the child zone serves the rest");
    }
  }
  for (const auto& [fqdn, service] : services_) {
    auto cut = cuts.count(fqdn) ? std::optional<std::string_view>(fqdn) : cut_above(fqdn);
    if (cut) {
      error(service->pos, "service " + quoted(service->fqdn) + " lies at or below the delegation at " +
                              name_text(*cut),
            "the delegated zone answers for that name");
    }
  }
}

void ZoneCompiler::add_apex(ZoneBuilder& builder) {
  const Soa& soa = config_.soa;
  auto mname = absolute_name(soa.mname, "SOA mname");
  auto rname = absolute_name(soa.rname, "SOA rname");
  if (mname && rname) {
    std::string rdata = *mname + *rname;
    for (uint32_t field : {soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum}) {
      append_u32(rdata, field);
    }
    builder.add(origin_, rrtype::SOA, config_.ttl, rdata);
  }
  for (const auto& ns : config_.ns) {
    if (auto wire = absolute_name(ns, "name server")) {
      builder.add(origin_, rrtype::NS, config_.ttl, *wire);
    }
  }
}

Zone ZoneCompiler::build() {
  ZoneBuilder builder(origin_);
  add_apex(builder);
  for (const auto& r : records_) {
    if (!builder.add(r.owner, r.type, r.ttl, r.rdata)) {
      log::warning(r.pos.str() + ": the TTLs of " + r.describe() +
                   " differ; the RRset gets the smallest");
    }
  }
  int index = first_service_;
  for (const auto& service : config_.services) {
    if (auto wire = dname::from_text(service.fqdn, origin_)) builder.add_service(*wire, index);
    ++index;
  }
  return builder.finish();
}

}  // namespace

ZoneSet compile_zones(const Config& config) {
  std::vector<ConfigError> errors;
  std::vector<Zone> zones;
  int first_service = 0;
  for (const auto& zone : config.zones) {
    zones.push_back(ZoneCompiler(zone, first_service, errors).compile());
    first_service += static_cast<int>(zone.services.size());
  }
  if (!errors.empty()) throw ConfigErrors(std::move(errors));
  return ZoneBuilder::make_set(std::move(zones));
}

}  // namespace geosteer::zones
