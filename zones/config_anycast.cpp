// The anycast: section: which BIRD protocol announces this node's service prefixes.
#include "zones/config_parser.h"

namespace geosteer::zones::parsing {

void ConfigParser::parse_anycast(const YAML::Node& node, AnycastConfig& anycast) {
  auto f = fields(node, "anycast", {"prefixes", "bird_socket", "protocol", "check_interval"});
  if (!f) return;
  anycast.enabled = true;
  anycast.pos = pos(node);
  if (const Entry* e = required(*f, "prefixes", "anycast")) {
    if (expect(e->value, YAML::NodeType::Sequence, "'prefixes'")) {
      for (const auto& item : e->value) {
        auto text = scalar(item, "an anycast prefix");
        if (!text) continue;
        auto prefix = IpPrefix::parse(*text);
        if (!prefix || !prefix->host_bits_zero()) {
          error(item, "invalid anycast prefix " + quoted(*text),
                "a network such as 192.0.2.53/32 or 2001:db8::53/128");
          continue;
        }
        anycast.prefixes.push_back(*prefix);
      }
      if (e->value.size() == 0) error(e->value, "'prefixes' lists no prefix", "e.g. prefixes: [192.0.2.53/32]");
    }
  }
  if (const Entry* e = f->find("bird_socket")) {
    if (auto v = scalar(e->value, "'bird_socket'")) {
      if (v->empty() || (*v)[0] != '/') {
        error(e->value, "'bird_socket' must be an absolute path", "e.g. bird_socket: /run/bird/bird.ctl");
      } else {
        anycast.bird_socket = *v;
      }
    }
  }
  // One protocol, or a list: a BIRD static protocol has one address family.
  if (const Entry* e = required(*f, "protocol", "anycast")) {
    std::vector<YAML::Node> names;
    if (e->value.IsSequence()) {
      for (const auto& item : e->value) names.push_back(item);
    } else {
      names.push_back(e->value);
    }
    for (const auto& name : names) {
      auto v = scalar(name, "'protocol'");
      if (!v) continue;
      if (v->empty() || v->find_first_of(" \t;") != std::string::npos) {
        error(name, "'protocol' must name BIRD protocols", "e.g. protocol: [geosteer_anycast, geosteer_anycast6]");
        continue;
      }
      anycast.protocols.push_back(*v);
    }
    if (anycast.protocols.empty() && names.empty()) {
      error(e->value, "'protocol' names no BIRD protocol", "e.g. protocol: geosteer_anycast");
    }
  }
  if (const Entry* e = f->find("check_interval")) {
    if (auto d = duration(e->value, "'check_interval'")) {
      if (*d < std::chrono::milliseconds(100) || *d > std::chrono::minutes(1)) {
        error(e->value, "'check_interval' must be from 100ms to 1m", "e.g. check_interval: 1s");
      } else {
        anycast.check_interval = *d;
      }
    }
  }
}

}  // namespace geosteer::zones::parsing
