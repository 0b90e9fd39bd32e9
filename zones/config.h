// The operator's configuration as written in YAML, validated, with the source
// position of every item so that errors can name file:line:column.
//
// parse_config() checks the YAML itself: keys, names, addresses, prefixes,
// coordinates, ids and references. compile_zones() (zones/zone.h) parses the
// records with ldns; the loader in app/ resolves what needs the GeoIP databases
// (mirror locations). All of them report through ConfigError.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/limits.h"
#include "healthcheck/settings.h"
#include "ratelimit/settings.h"

namespace geosteer::zones {

struct SourcePos {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string str() const;  // "file:line:column", "file:line" without column, "file" without line
};

struct ConfigError {
  SourcePos pos;
  std::string message;  // what is wrong
  std::string hint;     // how to fix it; may be empty
  std::string str() const;  // "file:line:column: error: message (hint)"
};

// Thrown by parse_config() and the loader; carries every error found, not just the first.
class ConfigErrors : public std::runtime_error {
 public:
  explicit ConfigErrors(std::vector<ConfigError> errors);
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

struct GeoPoint {
  double lat = 0;  // degrees, -90..90
  double lon = 0;  // degrees, -180..180
};

struct ListenAddress {
  IpAddress address;
  uint16_t port = 53;
  SourcePos pos;
  std::string str() const;  // "127.0.0.1:5353", "[::1]:5353"
};

struct ServerConfig {
  std::vector<ListenAddress> listen;
  std::string identity;  // id.server / hostname.bind / NSID; defaults to the host name
  // RFC 7766 section 6.2.3: between messages, and for one message in progress.
  std::chrono::milliseconds tcp_idle_timeout{10000};
  std::chrono::milliseconds tcp_io_timeout{3000};
  unsigned tcp_max_connections = 512;  // per query thread; the most idle makes room
  uint16_t max_udp_payload = 1232;  // our own EDNS buffer size (DNS flag day 2020)
  unsigned threads = 0;              // 0: one per core
  ratelimit::Settings rate_limit;    // response rate limiting of UDP answers
  // DNS cookies (RFC 7873, RFC 9018): the server secret, shared by the nodes of an
  // anycast service; absent, each process draws its own at start.
  std::optional<std::array<uint8_t, 16>> cookie_secret;
  // On SIGTERM: /healthz turns 503 (and, with anycast, the route is withdrawn) while
  // queries are still answered this long, so that load balancers and routers move
  // clients away before the sockets close.
  std::chrono::milliseconds drain_time{5000};
  // `geosteer ctl` talks to the server here (a Unix socket, mode 0660); empty: none.
  std::string control_socket = "/run/geosteer/control.sock";
  bool control_socket_set = false;  // written in the file: failing to create it is an error
  // What the server keeps across restarts: the drains of `geosteer ctl drain`.
  std::string state_dir = "/var/lib/geosteer";
  // Started as root, the server binds its sockets and then runs as this user (and
  // its groups); empty: it stays who it was started as.
  std::string user;
};

struct MetricsConfig {
  bool enabled = true;
  // /metrics, the status page, /status.json and /healthz. Port 0: any free port.
  ListenAddress listen{*IpAddress::parse("127.0.0.1"), 9153, {}};
  std::chrono::seconds share_window{300};  // answers counted for the status page's shares
};

struct GeoipConfig {
  std::vector<std::string> databases;
  std::vector<SourcePos> positions;  // one per database, for errors
};

struct Soa {
  std::string mname, rname;  // absolute names
  uint32_t serial = 0, refresh = 3600, retry = 600, expire = 1209600, minimum = 300;
};

struct RecordText {
  std::string text;  // one line of zone-file syntax, relative to the zone origin
  SourcePos pos;
};

struct Overrides {
  std::map<std::string, std::vector<std::string>> countries;   // ISO 3166 alpha-2 -> mirror ids
  std::map<std::string, std::vector<std::string>> continents;  // AF AN AS EU NA OC SA -> ids
  std::vector<std::pair<IpPrefix, std::vector<std::string>>> networks;  // in config order
  std::vector<std::pair<uint32_t, std::vector<std::string>>> asns;      // AS number -> ids
};

struct Service {
  std::string name;  // as written ("substitutes")
  std::string fqdn;  // absolute, lower case, trailing dot ("substitutes.guix.example.org.")
  std::vector<std::string> mirrors;  // ids, in config order
  unsigned answers = 2;              // distinct mirrors per answer
  uint32_t ttl = 60;
  std::vector<std::string> fallback;  // ids
  Overrides overrides;
  // Mirrors no farther than the nearest plus spread_km share its clients by weight.
  double spread_km = 0;
  // Later answers only from mirrors within failover_km of the first-ranked one; a
  // client with fewer gets fewer, with failover_ttl (at most ttl). 0: any distance.
  double failover_km = 0;
  uint32_t failover_ttl = 30;
  SourcePos pos;
};

struct ZoneConfig {
  std::string origin;  // absolute, lower case, trailing dot
  uint32_t ttl = 3600;
  Soa soa;
  std::vector<std::string> ns;  // absolute names
  std::vector<RecordText> records;
  std::optional<std::string> zonefile;  // path of a standard zone file with more static records
  SourcePos zonefile_pos;
  std::vector<Service> services;
  SourcePos pos;
};

struct MirrorConfig {
  std::string id;
  std::string url;  // http:// or https://, ends with '/'
  std::vector<IpAddress> ipv4, ipv6;
  std::optional<GeoPoint> location;  // absent: taken from GeoIP of the first address
  bool drain = false;  // probed, never answered
  // Its home: clients in these networks or ASes get it first (after the services'
  // network and ASN overrides).
  std::vector<IpPrefix> networks;
  std::vector<uint32_t> asns;
  uint32_t weight = 100;  // share among mirrors within a service's spread_km; 0: last resort
  // Resolved: global healthcheck, then the services listing the mirror (which must
  // resolve alike), then its own.
  healthcheck::ProbeSettings probe;
  std::string service_host;  // the first such service's name without the final dot (check_host: service)
  SourcePos pos;
};

// Anycast: this node announces the service prefixes through BIRD 2 while it
// answers, and withdraws them when it does not (README.md, "Anycast").
struct AnycastConfig {
  bool enabled = false;  // an anycast: block is present
  std::vector<IpPrefix> prefixes;  // announced by the BIRD protocol; for logs and status
  std::string bird_socket = "/run/bird/bird.ctl";
  // The BIRD protocols to enable and disable, e.g. a static one per address family.
  std::vector<std::string> protocols;
  std::chrono::milliseconds check_interval{1000};  // self-check of every listener
  SourcePos pos;
};

struct Config {
  std::string path;
  ServerConfig server;
  GeoipConfig geoip;
  std::vector<ZoneConfig> zones;
  std::vector<MirrorConfig> mirrors;
  healthcheck::CheckerSettings checker;  // global healthcheck.concurrency
  MetricsConfig metrics;
  AnycastConfig anycast;

  const MirrorConfig* find_mirror(std::string_view id) const;
};

// "10s", "500ms", "2m", "1h30m", "7d" (units ms, s, m, h, d; several may be combined,
// largest first or not); bare digits are seconds. nullopt when malformed or too large.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Reads and validates a configuration file. Throws ConfigErrors naming every problem.
Config parse_config(const std::string& path);

// Same, from text already in memory; `path` is used in error positions only.
Config parse_config_text(const std::string& text, const std::string& path);

}  // namespace geosteer::zones
