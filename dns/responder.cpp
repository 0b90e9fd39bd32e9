#include "dns/responder.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string_view>

#include "common/dname.h"
#include "dns/wire.h"

namespace geosteer::dns {

namespace {

namespace rrtype = zones::rrtype;
using wire::ResponseWriter;
using wire::Section;

// Same bound as common resolvers: a longer chain is more likely a loop than data.
constexpr unsigned kMaxCnameHops = 8;
// Room for the TXT RDATA of an explanation (a few short strings per address
// family): more than a UDP response carries, small enough for the stack.
constexpr size_t kMaxExplanation = 4096;

constexpr std::string_view kIdServer{"\x02id\x06server\x00", 11};
constexpr std::string_view kHostnameBind{"\x08hostname\x04"
                                         "bind\x00",
                                         15};
// RFC 8482 section 4.2: HINFO with CPU "RFC8482" and an empty OS.
constexpr std::string_view kRfc8482Hinfo{"\x07RFC8482\x00", 9};

// The first query checks, in the order they decide the response code; NoError
// means the query goes on to be answered from data.
uint16_t check_query(wire::ParseStatus status, const wire::Query& query, const RequestInfo& info) {
  if (status == wire::ParseStatus::Malformed) return wire::rcode::FormErr;
  // RFC 8945 section 5.2: the signature is checked before anything else, and a
  // server that does not know the key answers NOTAUTH (with BADKEY in the TSIG
  // RR). We hold no keys: a well-formed TSIG always names an unknown one.
  if (query.tsig.present) return wire::rcode::NotAuth;
  if (query.header.opcode() != wire::opcode::Query) return wire::rcode::NotImp;
  // RFC 6891 section 6.1.3: a version we do not implement gets BADVERS.
  if (query.edns.present && query.edns.version > 0) return wire::rcode::BadVers;
  // RFC 7828 section 3.2.1: a client sends edns-tcp-keepalive with OPTION-LENGTH 0.
  // Over TCP one with a TIMEOUT is a malformed option, FORMERR (RFC 6891 section 7,
  // as Unbound answers it); over UDP a server MUST ignore the option whatever it
  // holds (RFC 7828 section 3.2.2).
  if (info.transport == Transport::Tcp && query.edns.tcp_keepalive_with_timeout) {
    return wire::rcode::FormErr;
  }
  uint16_t qtype = query.question.qtype;
  // Meta types only have a meaning in the additional section (RFC 6895 section 3.1).
  if (qtype == rrtype::OPT || qtype == wire::qtype::Tsig || qtype == wire::qtype::Tkey) {
    return wire::rcode::FormErr;
  }
  if (qtype == wire::qtype::Maila || qtype == wire::qtype::Mailb ||
      (qtype >= 128 && qtype <= 248)) {
    return wire::rcode::NotImp;
  }
  // No zone transfers: the data comes from the configuration, not from a primary.
  if (qtype == wire::qtype::Axfr || qtype == wire::qtype::Ixfr) return wire::rcode::Refused;
  uint16_t qclass = query.question.qclass;
  if (qclass != wire::rrclass::In && qclass != wire::rrclass::Ch) return wire::rcode::Refused;
  return wire::rcode::NoError;
}

// RFC 6891 section 6.2.5: the requestor's size, capped by ours, never below 512.
size_t message_limit(const wire::Query& query, const RequestInfo& info,
                     const ResponderOptions& options) {
  if (info.transport == Transport::Tcp) return wire::kMaxTcpMessage;
  if (!query.edns.present) return wire::kMinUdpPayload;
  size_t limit = std::min<size_t>(query.edns.udp_payload, options.max_udp_payload);
  return std::max(limit, wire::kMinUdpPayload);
}

// RFC 7871 section 7.1.1: the ECS address when it says something (SOURCE > 0),
// else the address the query came from.
ClientSubnet client_of(const wire::Query& query, const RequestInfo& info) {
  const wire::ClientSubnetOption& ecs = query.edns.client_subnet;
  if (!ecs.present || ecs.source_prefix == 0) {
    return {info.source, static_cast<uint8_t>(info.source.bits()), false};
  }
  ClientSubnet client;
  client.address.family = ecs.family == wire::ecs_family::Ipv4 ? Family::V4 : Family::V6;
  std::copy(ecs.address, ecs.address + ecs.address_length, client.address.bytes.begin());
  client.source_prefix = ecs.source_prefix;
  client.from_ecs = true;
  return client;
}

std::string_view as_text(const std::string& s) { return {s.data(), s.size()}; }

// Canonical copy of a name found in RDATA (CNAME target, NS host), which zone
// data may hold in any case. Empty when it is not a plausible wire name.
std::string_view canonical_copy(std::string_view name, char (&buffer)[wire::kMaxNameLength]) {
  if (name.empty() || name.size() > wire::kMaxNameLength || name.back() != '\0') return {};
  std::memcpy(buffer, name.data(), name.size());
  dname::lowercase(buffer, name.size());
  return {buffer, name.size()};
}

// One query being answered from zone or CHAOS data. Lives on the stack of
// respond(); writes answer, authority and additional records through `writer`.
class Resolution {
 public:
  Resolution(const zones::ZoneSet& zones, const DynamicAnswers& dynamic,
             const ResponderOptions& options, const wire::Query& query, const RequestInfo& info,
             ResponseWriter& writer)
      : zones_(zones),
        dynamic_(dynamic),
        options_(options),
        query_(query),
        info_(info),
        writer_(writer),
        client_(client_of(query, info)) {}

  void run() {
    ResponseWriter::Mark after_question = writer_.mark();
    if (query_.question.qclass == wire::rrclass::Ch) {
      answer_chaos();
    } else {
      answer_internet();
    }
    // RFC 2181 section 9: a partial answer or authority section is useless, send
    // the question alone with TC so the client retries over TCP.
    if (truncated_) {
      writer_.rollback(after_question);
      tailored_ = false;
    }
  }

  uint16_t rcode() const { return rcode_; }
  // For rate limiting: see QueryOutcome::key_name.
  std::string_view key_name() const { return key_name_.empty() ? qname() : key_name_; }
  bool explained() const { return explained_; }
  bool negative() const { return negative_; }
  bool authoritative() const { return authoritative_; }
  bool truncated() const { return truncated_; }
  bool tailored() const { return tailored_; }
  uint8_t scope_prefix() const { return scope_prefix_; }

 private:
  uint16_t qtype() const { return query_.question.qtype; }
  std::string_view qname() const { return query_.question.canonical_name(); }
  std::string_view received_qname() const { return query_.question.received_name(); }

  // RFC 4892 section 2: the server's identity under the CHAOS names.
  void answer_chaos() {
    if (qname() != kIdServer && qname() != kHostnameBind) {
      rcode_ = wire::rcode::Refused;
      return;
    }
    authoritative_ = true;
    if (qtype() != rrtype::TXT && qtype() != rrtype::ANY) return;
    char rdata[1024];
    size_t length = identity_txt(rdata, sizeof rdata);
    add(Section::Answer, received_qname(), rrtype::TXT, wire::rrclass::Ch, 0, {rdata, length});
  }

  // The identity as TXT character-strings of at most 255 octets each.
  size_t identity_txt(char* out, size_t capacity) const {
    std::string_view identity = options_.identity;
    size_t length = 0;
    do {
      size_t chunk = std::min<size_t>(identity.size(), 255);
      if (length + 1 + chunk > capacity) break;
      out[length++] = static_cast<char>(chunk);
      std::memcpy(out + length, identity.data(), chunk);
      length += chunk;
      identity.remove_prefix(chunk);
    } while (!identity.empty());
    return length;
  }

  void answer_internet() {
    const zones::Zone* zone = zones_.find(qname());
    if (zone == nullptr) {
      rcode_ = wire::rcode::Refused;  // not authoritative, and no recursion here
      return;
    }
    authoritative_ = true;
    follow_chain(*zone);
  }

  // Looks the name up and follows CNAMEs while they stay inside our zones
  // (RFC 1034 section 4.3.2 step 3.a); the response code and the negative
  // answer describe the last name of the chain (RFC 6604 section 3).
  void follow_chain(const zones::Zone& first_zone) {
    const zones::Zone* zone = &first_zone;
    std::string_view name = qname();
    // The question's own name is written through a pointer to the question, so
    // the answer echoes the query's case; later names are the CNAME targets.
    std::string_view owner = received_qname();
    char target_buffer[wire::kMaxNameLength];
    for (unsigned hop = 0;; ++hop) {
      zones::Lookup found = zone->lookup(name);
      switch (found.kind) {
        case zones::Lookup::Kind::NxDomain:
          rcode_ = wire::rcode::NxDomain;
          key_name_ = zone->origin();
          add_negative(*zone);
          return;
        case zones::Lookup::Kind::EmptyNonTerminal:
          add_negative(*zone);
          return;
        case zones::Lookup::Kind::Delegation:
          // Inside a chain the target's data is elsewhere: the client chases it.
          if (hop == 0) {
            key_name_ = found.node->owner;
            answer_delegation(*zone, *found.node);
          }
          return;
        case zones::Lookup::Kind::Found:
          break;
      }
      const zones::Node& node = *found.node;
      if (hop == 0 && found.wildcard) key_name_ = node.owner;
      const zones::RRset* cname = node.find(rrtype::CNAME);
      if (cname == nullptr || qtype() == rrtype::CNAME || qtype() == rrtype::ANY ||
          cname->rdata.empty()) {
        answer_node(*zone, node, owner);
        return;
      }
      add_rrset(Section::Answer, owner, *cname, cname->ttl);
      std::string_view target = canonical_copy(as_text(cname->rdata.front()), target_buffer);
      if (hop + 1 >= kMaxCnameHops || target.empty()) return;
      zone = zones_.find(target);
      if (zone == nullptr) return;  // out of our zones: the resolver follows it
      name = owner = target;
    }
  }

  void answer_node(const zones::Zone& zone, const zones::Node& node, std::string_view owner) {
    if (qtype() == rrtype::ANY) {
      answer_any(zone, node, owner);
      return;
    }
    if (node.explains >= 0 && qtype() == rrtype::TXT) {
      if (!add_explanation(node, owner)) add_negative(zone);
      return;
    }
    if (node.service >= 0 && (qtype() == rrtype::A || qtype() == rrtype::AAAA)) {
      if (!add_dynamic(node, owner, qtype())) add_negative(zone);
      return;
    }
    const zones::RRset* rrset = node.find(qtype());
    if (rrset == nullptr) {
      add_negative(zone);
      return;
    }
    add_rrset(Section::Answer, owner, *rrset, rrset->ttl);
    if (qtype() == rrtype::NS && node.owner == zone.origin()) {
      add_glue(zone, *rrset, [](std::string_view) { return true; });
    }
  }

  // RFC 8482: over UDP one small synthesized HINFO instead of every RRset, which
  // would make us an amplifier; over TCP the source is verified, answer it all.
  void answer_any(const zones::Zone& zone, const zones::Node& node, std::string_view owner) {
    if (info_.transport == Transport::Udp) {
      add(Section::Answer, owner, rrtype::HINFO, wire::rrclass::In, zone.negative_ttl(),
          kRfc8482Hinfo);
      return;
    }
    bool answered = false;
    for (const zones::RRset& rrset : node.rrsets) {
      answered = add_rrset(Section::Answer, owner, rrset, rrset.ttl) || answered;
    }
    if (node.service >= 0) {
      answered = add_dynamic(node, owner, rrtype::A) || answered;
      answered = add_dynamic(node, owner, rrtype::AAAA) || answered;
    }
    if (node.explains >= 0) answered = add_explanation(node, owner) || answered;
    if (!answered) add_negative(zone);
  }

  // A referral (RFC 1034 section 4.3.2 step 3.b): not authoritative, the cut's NS
  // in authority, their addresses from below the cut as glue. The DS RRset of a
  // cut belongs to the parent side (RFC 4035 section 3.1.4.1), so it is answered.
  void answer_delegation(const zones::Zone& zone, const zones::Node& cut) {
    if (qtype() == rrtype::DS && cut.owner == qname()) {
      const zones::RRset* ds = cut.find(rrtype::DS);
      if (ds == nullptr) {
        add_negative(zone);
      } else {
        add_rrset(Section::Answer, received_qname(), *ds, ds->ttl);
      }
      return;
    }
    authoritative_ = false;
    const zones::RRset* ns = cut.find(rrtype::NS);
    if (ns == nullptr) return;
    add_rrset(Section::Authority, as_text(cut.owner), *ns, ns->ttl);
    add_referral_glue(zone, cut, *ns);
  }

  // RFC 9471 section 3: the addresses of name servers inside the delegated zone
  // (in-domain glue) are the only way to reach it, so they all go in or the
  // response is truncated; those of other name servers we hold (a sibling
  // delegation's, or our own names) are optional and follow, as far as they fit.
  void add_referral_glue(const zones::Zone& zone, const zones::Node& cut, const zones::RRset& ns) {
    auto in_domain = [&](std::string_view host) { return dname::is_subdomain(host, cut.owner); };
    if (!add_glue(zone, ns, in_domain)) {
      truncated_ = true;
      return;
    }
    add_glue(zone, ns, [&](std::string_view host) { return !in_domain(host); });
  }

  // Addresses of in-zone name servers. Additional data is optional: what does
  // not fit is left out whole RRset by whole RRset, without TC (RFC 2181 section 9).
  // False when some did not fit.
  template <typename HostFilter>
  bool add_glue(const zones::Zone& zone, const zones::RRset& ns, HostFilter wanted) {
    char host_buffer[wire::kMaxNameLength];
    for (const std::string& rdata : ns.rdata) {
      std::string_view host = canonical_copy(as_text(rdata), host_buffer);
      if (host.empty() || !dname::is_subdomain(host, zone.origin()) || !wanted(host)) continue;
      const zones::Node* node = zone.find_node(host);
      if (node == nullptr) continue;
      for (uint16_t type : {rrtype::A, rrtype::AAAA}) {
        const zones::RRset* addresses = node->find(type);
        if (addresses != nullptr && !add_additional(host, *addresses)) return false;
      }
    }
    return true;
  }

  bool add_additional(std::string_view owner, const zones::RRset& rrset) {
    ResponseWriter::Mark before = writer_.mark();
    for (const std::string& rdata : rrset.rdata) {
      if (!writer_.add_rr(Section::Additional, owner, rrset.type, wire::rrclass::In, rrset.ttl,
                          as_text(rdata))) {
        writer_.rollback(before);
        return false;
      }
    }
    return true;
  }

  // A and AAAA of a service node, tailored to the client. False when the
  // service has no address of the family (the caller answers NODATA).
  bool add_dynamic(const zones::Node& node, std::string_view owner, uint16_t type) {
    DynamicAnswer answer;
    Family family = type == rrtype::A ? Family::V4 : Family::V6;
    dynamic_.answer(node.service, family, client_, answer);
    size_t count = std::min(answer.count, DynamicAnswer::kMaxAddresses);
    if (count == 0) return false;
    size_t length = family == Family::V4 ? 4 : 16;
    for (size_t i = 0; i < count; ++i) {
      const IpAddress& address = answer.addresses[i];
      std::string_view rdata{reinterpret_cast<const char*>(address.bytes.data()), length};
      add(Section::Answer, owner, type, wire::rrclass::In, answer.ttl, rdata);
    }
    tailored_ = true;
    scope_prefix_ = std::max(scope_prefix_, answer.scope_prefix);
    return true;
  }

  // The TXT at `_geosteer.<service>`: why this client gets what it gets. It holds
  // exactly the client's address as given, so no cache may hand it to anyone else:
  // TTL 0, and an ECS SCOPE equal to SOURCE (RFC 7871 section 7.2.1). False when
  // the explanation is empty (the caller answers NODATA).
  bool add_explanation(const zones::Node& node, std::string_view owner) {
    char rdata[kMaxExplanation];
    size_t length = dynamic_.explain(node.explains, client_, rdata);
    if (length == 0) return false;
    add(Section::Answer, owner, rrtype::TXT, wire::rrclass::In, 0,
        {rdata, std::min(length, sizeof rdata)});
    tailored_ = explained_ = true;
    scope_prefix_ = std::max(scope_prefix_, client_.source_prefix);
    return true;
  }

  // RFC 2308 section 3: the zone's SOA in authority, with the negative TTL.
  void add_negative(const zones::Zone& zone) {
    negative_ = true;
    const zones::RRset& soa = zone.soa();
    add_rrset(Section::Authority, as_text(zone.origin()), soa, zone.negative_ttl());
  }

  bool add_rrset(Section section, std::string_view owner, const zones::RRset& rrset,
                 uint32_t ttl) {
    for (const std::string& rdata : rrset.rdata) {
      add(section, owner, rrset.type, wire::rrclass::In, ttl, as_text(rdata));
    }
    return !rrset.rdata.empty();
  }

  // Answer and authority records must all be there: a record that does not fit
  // truncates the whole response (see run()).
  void add(Section section, std::string_view owner, uint16_t type, uint16_t rclass, uint32_t ttl,
           std::string_view rdata) {
    if (truncated_) return;
    if (!writer_.add_rr(section, owner, type, rclass, ttl, rdata)) truncated_ = true;
  }

  const zones::ZoneSet& zones_;
  const DynamicAnswers& dynamic_;
  const ResponderOptions& options_;
  const wire::Query& query_;
  const RequestInfo& info_;
  ResponseWriter& writer_;
  ClientSubnet client_;

  uint16_t rcode_ = wire::rcode::NoError;
  std::string_view key_name_;  // empty: the query name
  bool explained_ = false;
  bool negative_ = false;  // NXDOMAIN or NODATA: the zone's SOA in authority
  bool authoritative_ = false;
  bool truncated_ = false;
  bool tailored_ = false;
  uint8_t scope_prefix_ = 0;
};

// The OPT RR of the response, planned before the answer so that its room can be
// kept: a response to an EDNS query always carries OPT (RFC 6891 section 7).
class OptPlan {
 public:
  OptPlan(const wire::Edns& edns, bool badvers, const RequestInfo& info, std::string_view identity,
          std::span<const uint8_t> cookie, size_t room)
      : edns_(edns) {
    if (!edns.present || badvers) return;  // BADVERS answers with a bare OPT
    // RFC 7873 section 5.2: the client cookie and our server cookie, first, so that
    // NSID giving way to the answer never takes the cookie with it.
    if (!cookie.empty()) options_[count_++] = {wire::edns_option::Cookie, cookie};
    if (edns.nsid_requested) {
      // RFC 5001 section 2.2: the identity, unless it would crowd out the answer.
      std::span<const uint8_t> data{reinterpret_cast<const uint8_t*>(identity.data()),
                                    identity.size()};
      options_[count_++] = {wire::edns_option::Nsid, data};
      if (size() > room) --count_;
    }
    if (edns.client_subnet.present) {
      ecs_ = &options_[count_++];
      *ecs_ = {wire::edns_option::ClientSubnet, {ecs_data_, encode_ecs(0)}};
    }
    // RFC 7828 section 3.2.3: to a client that sent the option over TCP, the idle
    // timeout of this connection in units of 100 ms; never over UDP.
    bool keepalive = edns.tcp_keepalive && !edns.tcp_keepalive_with_timeout;
    if (info.transport == Transport::Tcp && keepalive) {
      keepalive_data_[0] = static_cast<uint8_t>(info.tcp_keepalive >> 8);
      keepalive_data_[1] = static_cast<uint8_t>(info.tcp_keepalive & 0xFF);
      options_[count_++] = {wire::edns_option::TcpKeepalive, {keepalive_data_, 2}};
    }
  }
  OptPlan(const OptPlan&) = delete;  // the options point into this object
  OptPlan& operator=(const OptPlan&) = delete;

  size_t size() const { return edns_.present ? wire::opt_record_size(options()) : 0; }
  std::span<const wire::EdnsOption> options() const { return {options_, count_}; }

  // RFC 7871 section 7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as received;
  // SCOPE says how much of the address the answer depends on.
  void set_scope(uint8_t scope) {
    if (ecs_ != nullptr) encode_ecs(scope);
  }

 private:
  size_t encode_ecs(uint8_t scope) {
    const wire::ClientSubnetOption& ecs = edns_.client_subnet;
    uint8_t max_scope = ecs.family == wire::ecs_family::Ipv4 ? 32 : 128;
    ecs_data_[0] = static_cast<uint8_t>(ecs.family >> 8);
    ecs_data_[1] = static_cast<uint8_t>(ecs.family);
    ecs_data_[2] = ecs.source_prefix;
    ecs_data_[3] = std::min(scope, max_scope);
    std::memcpy(ecs_data_ + 4, ecs.address, ecs.address_length);
    return 4u + ecs.address_length;
  }

  const wire::Edns& edns_;
  wire::EdnsOption options_[4];  // cookie, NSID, ECS, keepalive
  size_t count_ = 0;
  wire::EdnsOption* ecs_ = nullptr;
  uint8_t ecs_data_[4 + 16] = {};
  uint8_t keepalive_data_[2] = {};
};

uint16_t response_flags(const wire::Header& query, uint16_t rcode, bool authoritative,
                        bool truncated) {
  // RD and CD are copied (RFC 1035 section 4.1.1, RFC 4035 section 3.1.6); RA
  // stays clear: we never recurse.
  uint16_t flags = wire::flag::Qr | (query.flags & (0x7800 | wire::flag::Rd | wire::flag::Cd));
  if (authoritative) flags |= wire::flag::Aa;
  if (truncated) flags |= wire::flag::Tc;
  return static_cast<uint16_t>(flags | (rcode & 0x0F));
}

// RFC 7873: the COOKIE option of the response, written into `out`; empty when
// the query had none or cookies are off.
std::span<const uint8_t> plan_cookie(const wire::Query& query, const RequestInfo& info,
                                     const ResponderOptions& options,
                                     std::span<uint8_t, kCookieOptionSize> out,
                                     QueryOutcome& outcome) {
  if (!options.cookie_secret || !query.edns.cookie.present) return {};
  outcome.cookie = answer_cookie(*options.cookie_secret, query.edns.cookie, info.source,
                                 options.unix_time(), out);
  return out;
}

// How a response rate limiter counts this response (see QueryOutcome).
void classify(uint16_t rcode, bool explained, bool negative, std::string_view key_name,
              QueryOutcome& outcome) {
  using Kind = QueryOutcome::Kind;
  if (rcode == wire::rcode::NxDomain) {
    outcome.kind = Kind::NxDomain;
  } else if (rcode != wire::rcode::NoError) {
    outcome.kind = Kind::Error;
  } else if (explained) {
    outcome.kind = Kind::Explanation;
  } else {
    outcome.kind = negative ? Kind::NoData : Kind::Answer;
  }
  size_t length = std::min(key_name.size(), sizeof outcome.key_name);
  std::memcpy(outcome.key_name, key_name.data(), length);
  outcome.key_name_length = static_cast<uint8_t>(length);
}

}  // namespace

uint32_t system_unix_time() { return static_cast<uint32_t>(std::time(nullptr)); }

Responder::Responder(const zones::ZoneSet& zones, const DynamicAnswers& dynamic,
                     ResponderOptions options)
    : zones_(zones), dynamic_(dynamic), options_(std::move(options)) {}

size_t Responder::respond(std::span<const uint8_t> query_message, const RequestInfo& info,
                          std::span<uint8_t> out, QueryOutcome* outcome) const {
  QueryOutcome ignored;
  QueryOutcome& result = outcome != nullptr ? *outcome : ignored;
  result = {};
  wire::Query query;
  wire::ParseStatus status = wire::parse_query(query_message, query);
  if (status == wire::ParseStatus::TooShort) {
    result.drop = QueryOutcome::Drop::Malformed;
    return 0;
  }
  if (status == wire::ParseStatus::Response) {
    result.drop = QueryOutcome::Drop::Response;
    return 0;
  }
  if (out.size() < wire::kMinUdpPayload) return 0;
  const wire::Edns& edns = query.edns;
  result.qtype = query.has_question ? query.question.qtype : 0;
  result.ecs = edns.client_subnet.present;  // the parser keeps only a valid one

  size_t limit = message_limit(query, info, options_);
  ResponseWriter writer(out, limit);
  writer.set_id(query.header.id);
  if (query.has_question) {
    const wire::Question& q = query.question;
    writer.add_question(q.received_name(), q.qtype, q.qclass);  // always fits in 512
  }
  uint16_t rcode = check_query(status, query, info);
  uint8_t cookie_buffer[kCookieOptionSize];
  std::span<const uint8_t> cookie = plan_cookie(query, info, options_, cookie_buffer, result);
  OptPlan opt(edns, rcode == wire::rcode::BadVers, info, options_.identity, cookie,
              limit - writer.size());
  bool badkey = rcode == wire::rcode::NotAuth;
  size_t trailer = opt.size() + (badkey ? wire::unsigned_tsig_size(query.tsig) : 0);
  writer.reserve(trailer);

  bool authoritative = false, truncated = false;
  if (rcode != wire::rcode::NoError) {
    classify(rcode, false, false, query.question.canonical_name(), result);
  }
  if (rcode == wire::rcode::NoError) {
    Resolution resolution(zones_, dynamic_, options_, query, info, writer);
    resolution.run();
    rcode = resolution.rcode();
    classify(rcode, resolution.explained(), resolution.negative(), resolution.key_name(), result);
    authoritative = resolution.authoritative();
    truncated = resolution.truncated();
    // Static and negative answers hold for every client: scope 0 (RFC 7871 section
    // 7.2.1), as does anything answered for SOURCE 0 (section 7.1.2).
    if (resolution.tailored() && edns.client_subnet.source_prefix > 0) {
      opt.set_scope(resolution.scope_prefix());
    }
  }

  writer.release(trailer);
  if (edns.present) {
    uint16_t payload = static_cast<uint16_t>(
        std::max<size_t>(options_.max_udp_payload, wire::kMinUdpPayload));
    writer.add_opt(payload, static_cast<uint8_t>(rcode >> 4), edns.dnssec_ok, opt.options());
  }
  // The TSIG RR comes last (RFC 8945 section 5.3). A long key and algorithm name
  // may not fit a 512-octet reply: TC sends the client to TCP, where it does.
  if (badkey && !writer.add_unsigned_tsig(query.tsig, wire::tsig_error::BadKey)) {
    truncated = true;
  }
  writer.set_flags(response_flags(query.header, rcode, authoritative, truncated));
  result.rcode = rcode;
  result.truncated = truncated;
  return writer.finish();
}

}  // namespace geosteer::dns
