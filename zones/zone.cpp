#include "zones/zone.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/dname.h"

namespace geosteer::zones {

const RRset* Node::find(uint16_t type) const {
  for (const auto& rrset : rrsets) {
    if (rrset.type == type) return &rrset;
  }
  return nullptr;
}

// --- queries: none of these allocate ---------------------------------------------

namespace {

constexpr size_t kMaxLabels = 128;  // a 255-octet wire name has at most 127 labels

template <typename Map>
auto find_in(const Map& map, std::string_view name) -> decltype(&map.begin()->second) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

// The highest node strictly below the origin, at or above `qname`, that has NS:
// the zone cut a referral must be made from (RFC 1034 section 4.3.2, step 3b).
template <typename Nodes>
const Node* find_zone_cut(const Nodes& nodes, std::string_view qname, size_t origin_size) {
  std::array<uint8_t, kMaxLabels> starts;
  size_t count = 0;
  for (size_t i = 0; i + origin_size < qname.size() && count < kMaxLabels;
       i += static_cast<uint8_t>(qname[i]) + 1) {
    starts[count++] = static_cast<uint8_t>(i);
  }
  while (count > 0) {
    const Node* node = find_in(nodes, qname.substr(starts[--count]));
    if (node && node->find(rrtype::NS)) return node;
  }
  return nullptr;
}

// The longest existing ancestor of `qname` (RFC 4592 section 3.3.1): a node or an
// empty non-terminal, the origin at least.
template <typename Nodes, typename Ents>
std::string_view closest_encloser(const Nodes& nodes, const Ents& ents, std::string_view qname,
                                  std::string_view origin) {
  for (auto name = dname::parent(qname); name.size() > origin.size(); name = dname::parent(name)) {
    if (find_in(nodes, name) || find_in(ents, name)) return name;
  }
  return origin;
}

}  // namespace

const Node& Zone::apex() const { return nodes_.find(origin_)->second; }

const RRset& Zone::soa() const {
  static const RRset kNone;
  const RRset* soa = apex().find(rrtype::SOA);
  return soa ? *soa : kNone;
}

uint32_t Zone::negative_ttl() const {
  const RRset& rrset = soa();
  if (rrset.rdata.empty() || rrset.rdata[0].size() < 4) return rrset.ttl;
  // MINIMUM is the last of the five 32-bit fields that end the SOA RDATA.
  const auto* tail =
      reinterpret_cast<const uint8_t*>(rrset.rdata[0].data() + rrset.rdata[0].size() - 4);
  uint32_t minimum = uint32_t{tail[0]} << 24 | uint32_t{tail[1]} << 16 |
                     uint32_t{tail[2]} << 8 | uint32_t{tail[3]};
  return std::min(rrset.ttl, minimum);
}

const Node* Zone::find_node(std::string_view name) const { return find_in(nodes_, name); }

Lookup Zone::lookup(std::string_view qname) const {
  if (qname.size() < origin_.size()) return {};
  if (has_delegations_) {
    if (const Node* cut = find_zone_cut(nodes_, qname, origin_.size())) {
      return {Lookup::Kind::Delegation, cut, false};
    }
  }
  if (const Node* node = find_node(qname)) return {Lookup::Kind::Found, node, false};
  if (find_in(empty_non_terminals_, qname)) return {Lookup::Kind::EmptyNonTerminal, nullptr, false};

  std::string_view encloser = closest_encloser(nodes_, empty_non_terminals_, qname, origin_);
  char buffer[dname::kMaxWireLength + 2];
  buffer[0] = 1;
  buffer[1] = '*';
  std::memcpy(buffer + 2, encloser.data(), encloser.size());
  std::string_view wildcard(buffer, encloser.size() + 2);
  if (const Node* node = find_node(wildcard)) return {Lookup::Kind::Found, node, true};
  // A wildcard that only has names below it exists but owns no data (RFC 4592 section 2.2.1).
  if (find_in(empty_non_terminals_, wildcard)) {
    return {Lookup::Kind::EmptyNonTerminal, nullptr, true};
  }
  return {};
}

const Zone* ZoneSet::find(std::string_view qname) const {
  // Suffixes from the longest down, so that the most specific origin wins.
  for (auto suffix = qname;; suffix = dname::parent(suffix)) {
    for (const Zone& zone : zones_) {
      if (zone.origin() == suffix) return &zone;
    }
    if (suffix.empty() || suffix[0] == '\0') return nullptr;
    if (static_cast<uint8_t>(suffix[0]) >= suffix.size()) return nullptr;  // malformed
  }
}

// --- building ----------------------------------------------------------------

ZoneBuilder::ZoneBuilder(std::string_view origin) {
  zone_.origin_ = std::string(origin);
  node(origin);
}

Node& ZoneBuilder::node(std::string_view owner) {
  auto it = zone_.nodes_.find(owner);
  if (it == zone_.nodes_.end()) {
    Node fresh;
    fresh.owner = std::string(owner);
    it = zone_.nodes_.emplace(fresh.owner, std::move(fresh)).first;
  }
  return it->second;
}

bool ZoneBuilder::add(std::string_view owner, uint16_t type, uint32_t ttl,
                      std::string_view rdata) {
  Node& n = node(owner);
  auto rrset = std::find_if(n.rrsets.begin(), n.rrsets.end(),
                            [&](const RRset& r) { return r.type == type; });
  if (rrset == n.rrsets.end()) {
    n.rrsets.push_back({type, ttl, {std::string(rdata)}});
    return true;
  }
  bool same_ttl = rrset->ttl == ttl;
  rrset->ttl = std::min(rrset->ttl, ttl);
  if (std::find(rrset->rdata.begin(), rrset->rdata.end(), rdata) == rrset->rdata.end()) {
    rrset->rdata.emplace_back(rdata);
  }
  return same_ttl;
}

void ZoneBuilder::add_service(std::string_view owner, int index) {
  node(owner).service = index;
  std::string explains = explain_name(owner);
  if (!explains.empty()) node(explains).explains = index;
}

Zone ZoneBuilder::finish() {
  const std::string& origin = zone_.origin_;
  for (const auto& [owner, n] : zone_.nodes_) {
    if (owner != origin && n.find(rrtype::NS)) zone_.has_delegations_ = true;
    for (auto name = dname::parent(owner); name.size() > origin.size();
         name = dname::parent(name)) {
      if (!find_in(zone_.nodes_, name)) zone_.empty_non_terminals_.emplace(name, true);
    }
  }
  return std::move(zone_);
}

ZoneSet ZoneBuilder::make_set(std::vector<Zone> zones) {
  ZoneSet set;
  set.zones_ = std::move(zones);
  return set;
}

std::string explain_name(std::string_view service_owner) {
  static constexpr std::string_view kLabel{"\x09_geosteer", 10};
  if (kLabel.size() + service_owner.size() > dname::kMaxWireLength) return {};
  std::string name(kLabel);
  name.append(service_owner);
  return name;
}

std::vector<const Service*> service_order(const Config& config) {
  std::vector<const Service*> order;
  for (const auto& zone : config.zones) {
    for (const auto& service : zone.services) order.push_back(&service);
  }
  return order;
}

}  // namespace geosteer::zones
