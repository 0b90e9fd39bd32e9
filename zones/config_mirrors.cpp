// The mirrors: section: ids, URLs, addresses and locations.
#include "zones/config_parser.h"

namespace geosteer::zones::parsing {

// --- mirrors -------------------------------------------------------------------

void ConfigParser::parse_mirrors(const YAML::Node& node, std::vector<MirrorConfig>& mirrors) {
  if (!expect(node, YAML::NodeType::Sequence, "'mirrors'")) return;
  for (const auto& item : node) {
    MirrorConfig mirror;
    mirror.pos = pos(item);
    HealthcheckBlock health;
    parse_mirror(item, mirror, health);
    mirrors.push_back(std::move(mirror));
    mirror_health_.push_back(std::move(health));
  }
}

void ConfigParser::parse_mirror(const YAML::Node& node, MirrorConfig& mirror,
                                HealthcheckBlock& health) {
  auto f = fields(node, "mirror", {"id", "url", "ipv4", "ipv6", "location", "drain",
                                   "networks", "asns", "weight", "healthcheck"});
  if (!f) return;
  if (const Entry* e = required(*f, "id", "mirror")) parse_mirror_id(e->value, mirror);
  if (const Entry* e = required(*f, "url", "mirror")) parse_url(e->value, mirror);
  size_t errors_before = errors_.size();
  if (const Entry* e = f->find("ipv4")) parse_addresses(e->value, Family::V4, mirror.ipv4);
  if (const Entry* e = f->find("ipv6")) parse_addresses(e->value, Family::V6, mirror.ipv6);
  // Only when no bad address was reported already: that error says enough.
  if (mirror.ipv4.empty() && mirror.ipv6.empty() && errors_.size() == errors_before) {
    error(node, "mirror " + quoted(mirror.id) + " has no address", "add ipv4: or ipv6:");
  }
  if (const Entry* e = f->find("location")) mirror.location = parse_location(e->value);
  if (const Entry* e = f->find("drain")) {
    if (auto drain = boolean(e->value, "'drain'")) mirror.drain = *drain;
  }
  if (const Entry* e = f->find("networks")) parse_home_networks(e->value, mirror);
  if (const Entry* e = f->find("asns")) parse_home_asns(e->value, mirror);
  set_integer(*f, "weight", 0, kMaxWeight, mirror.weight);
  if (const Entry* e = f->find("healthcheck")) health = parse_healthcheck(e->value, nullptr);
}

void ConfigParser::parse_home_networks(const YAML::Node& node, MirrorConfig& mirror) {
  if (!expect(node, YAML::NodeType::Sequence, "'networks'")) return;
  for (const auto& item : node) {
    auto text = scalar(item, "a network in 'networks'");
    if (!text) continue;
    auto prefix = network(item, *text);
    if (!prefix) continue;
    if (std::find(mirror.networks.begin(), mirror.networks.end(), *prefix) != mirror.networks.end()) {
      error(item, "network " + quoted(*text) + " is listed twice in 'networks'");
      continue;
    }
    mirror.networks.push_back(*prefix);
  }
}

void ConfigParser::parse_home_asns(const YAML::Node& node, MirrorConfig& mirror) {
  if (!expect(node, YAML::NodeType::Sequence, "'asns'")) return;
  for (const auto& item : node) {
    auto number = asn(item, "'asns'");
    if (!number) continue;
    if (std::find(mirror.asns.begin(), mirror.asns.end(), *number) != mirror.asns.end()) {
      error(item, "AS" + std::to_string(*number) + " is listed twice in 'asns'");
      continue;
    }
    mirror.asns.push_back(*number);
  }
}

// An AS number, written 6939 or AS6939. 0 and 4294967295 are reserved (RFC 7607,
// RFC 7300): no network is in them.
std::optional<uint32_t> ConfigParser::asn(const YAML::Node& node, std::string_view what) {
  auto text = scalar(node, "an AS number in " + std::string(what));
  if (!text) return std::nullopt;
  std::string digits = *text;
  if (digits.size() > 2 && (digits[0] == 'A' || digits[0] == 'a') && (digits[1] == 'S' || digits[1] == 's')) {
    digits = digits.substr(2);
  }
  bool numeric = !digits.empty() && digits.size() <= 10 &&
                 std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  uint64_t value = numeric ? std::stoull(digits) : 0;
  if (!numeric || value == 0 || value >= UINT32_MAX) {
    error(node, "invalid AS number " + quoted(*text) + " in " + std::string(what),
          "write it as 6939 or AS6939, between 1 and 4294967294");
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// A network written as a prefix with no bits set past its length.
std::optional<IpPrefix> ConfigParser::network(const YAML::Node& node, const std::string& text) {
  auto prefix = IpPrefix::parse(text);
  if (!prefix) {
    error(node, "invalid network " + quoted(text),
          "expected a prefix such as 203.0.113.0/24 or 2001:db8::/32");
    return std::nullopt;
  }
  if (!prefix->host_bits_zero()) {
    IpPrefix masked{prefix->address.masked(prefix->length), prefix->length};
    error(node, "network " + quoted(text) + " has bits set past its prefix length",
          "did you mean " + masked.to_string() + "?");
    return std::nullopt;
  }
  // Clients in ::ffff:0:0/96 are steered as the IPv4 clients they are, so such a
  // network would never match.
  static const IpPrefix kMapped = *IpPrefix::parse("::ffff:0:0/96");
  if (prefix->address.family == Family::V6 && prefix->length >= 96 && kMapped.contains(prefix->address)) {
    const auto& b = prefix->address.bytes;
    IpPrefix v4{IpAddress::v4({b[12], b[13], b[14], b[15]}), static_cast<uint8_t>(prefix->length - 96)};
    error(node, "network " + quoted(text) + " is IPv4-mapped: clients there are steered as IPv4",
          "write " + v4.to_string());
    return std::nullopt;
  }
  return prefix;
}

void ConfigParser::parse_mirror_id(const YAML::Node& node, MirrorConfig& mirror) {
  auto id = scalar(node, "'id'");
  if (!id) return;
  bool valid = !id->empty() && std::all_of(id->begin(), id->end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!valid) {
    error(node, "invalid mirror id " + quoted(*id),
          "use letters, digits, '-', '_' and '.' only");
    return;
  }
  mirror.id = *id;
  auto first = std::find_if(mirror_ids_.begin(), mirror_ids_.end(),
                            [&](const auto& known) { return known.first == *id; });
  if (first != mirror_ids_.end()) {
    error(node, "duplicate mirror id " + quoted(*id), "first defined at " + first->second.str());
    return;
  }
  mirror_ids_.emplace_back(*id, pos(node));
}

void ConfigParser::parse_url(const YAML::Node& node, MirrorConfig& mirror) {
  if (auto url = http_url(node, "'url'", "mirror URL")) mirror.url = *url;
}

void ConfigParser::parse_addresses(const YAML::Node& node, Family family,
                                   std::vector<IpAddress>& out) {
  const bool v4 = family == Family::V4;
  const std::string key = v4 ? "'ipv4'" : "'ipv6'";
  if (!expect(node, YAML::NodeType::Sequence, key)) return;
  for (const auto& item : node) {
    auto text = scalar(item, "an address in " + key);
    if (!text) continue;
    auto address = IpAddress::parse(*text);
    if (!address) {
      error(item, "invalid IP address " + quoted(*text) + " in " + key);
    } else if (address->family != family) {
      error(item, quoted(*text) + " is an " + (v4 ? "IPv6" : "IPv4") + " address, but " + key +
                      " lists " + (v4 ? "IPv4" : "IPv6") + " addresses only",
            std::string("move it to ") + (v4 ? "ipv6:" : "ipv4:"));
    } else {
      out.push_back(*address);
    }
  }
}

std::optional<GeoPoint> ConfigParser::parse_location(const YAML::Node& node) {
  auto f = fields(node, "location", {"lat", "lon"});
  if (!f) return std::nullopt;
  const Entry* lat_entry = required(*f, "lat", "location");
  const Entry* lon_entry = required(*f, "lon", "location");
  std::optional<double> lat, lon;
  if (lat_entry) lat = real(lat_entry->value, "latitude 'lat'", -90, 90);
  if (lon_entry) lon = real(lon_entry->value, "longitude 'lon'", -180, 180);
  if (!lat || !lon) return std::nullopt;
  return GeoPoint{*lat, *lon};
}


}  // namespace geosteer::zones::parsing
