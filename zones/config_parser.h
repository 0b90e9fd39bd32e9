// Internal to zones/: the YAML walker that the files parsing each section of the
// configuration share (config_walker.cpp: node checks, scalars, did-you-mean), and
// the parser's state. Not a public header: the public interface is zones/config.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zones/config.h"

namespace geosteer::zones::parsing {

constexpr uint64_t kMaxTtl = 2147483647;  // RFC 2181 section 8
// A mirror's weight: shares as fine as one in a million are more than enough.
constexpr uint64_t kMaxWeight = 1000000;
constexpr std::array<std::string_view, 7> kContinents = {"AF", "AN", "AS", "EU",
                                                         "NA", "OC", "SA"};

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Optimal string alignment distance: like Levenshtein, but a swap of two
// neighbouring characters ("tll" for "ttl") counts as one edit.
size_t edit_distance(std::string_view a, std::string_view b);

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

const char* kind_name(YAML::NodeType::value type);
std::string quoted(std::string_view s);

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
  std::optional<unsigned> flap_changes;
  std::optional<Seconds> flap_window, flap_hold_down;
};

// A service's block with what resolution needs from the service itself.
struct ServiceHealthcheck {
  std::vector<std::string> mirrors;  // ids
  std::string host;                  // fqdn without the final dot
  std::string name;                  // as written, for messages
  SourcePos pos;                     // of its healthcheck: block, else of the service
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
  // A duration longer than zero, unless `zero_allowed`.
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, std::string_view what,
                                                    bool zero_allowed = false);
  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
  std::optional<size_t> choice(const YAML::Node& node, std::string_view what,
                               std::initializer_list<std::string_view> options);
  std::optional<std::string> http_url(const YAML::Node& node, std::string_view what,
                                      std::string_view label);
  std::optional<std::string> relative_path(const YAML::Node& node, std::string_view what,
                                           bool allow_empty);

  void parse_server(const YAML::Node& node, ServerConfig& server);
  void parse_rate_limit(const YAML::Node& node, ratelimit::Settings& settings);
  void parse_exempt(const YAML::Node& node, std::vector<IpPrefix>& exempt);
  void parse_cookie_secret(const YAML::Node& node, ServerConfig& server);
  void parse_metrics(const YAML::Node& node, MetricsConfig& metrics);
  void parse_anycast(const YAML::Node& node, AnycastConfig& anycast);
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
  void parse_home_networks(const YAML::Node& node, MirrorConfig& mirror);
  void parse_home_asns(const YAML::Node& node, MirrorConfig& mirror);
  std::optional<uint32_t> asn(const YAML::Node& node, std::string_view what);
  std::optional<IpPrefix> network(const YAML::Node& node, const std::string& text);

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
  void parse_asn_overrides(const YAML::Node& node, Service& service);

  HealthcheckBlock parse_healthcheck(const YAML::Node& node,
                                     healthcheck::CheckerSettings* checker);
  void parse_liveness(const YAML::Node& node, HealthcheckBlock& block);
  void parse_freshness(const YAML::Node& node, HealthcheckBlock& block);
  void parse_canaries(const YAML::Node& node, HealthcheckBlock& block);
  void parse_ca_file(const YAML::Node& node, HealthcheckBlock& block);
  void parse_flapping(const YAML::Node& node, HealthcheckBlock& block);
  std::optional<Seconds> whole_seconds(const YAML::Node& node, std::string_view what);
  void resolve_probes(std::vector<MirrorConfig>& mirrors);
  void check_services_agree(const MirrorConfig& mirror, size_t index);
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

template <typename T>
void ConfigParser::set_integer(const Fields& f, std::string_view key, uint64_t min,
                               uint64_t max, T& out) {
  const Entry* e = f.find(key);
  if (!e) return;
  if (auto v = integer(e->value, quoted(key), min, max)) out = static_cast<T>(*v);
}

}  // namespace geosteer::zones::parsing
