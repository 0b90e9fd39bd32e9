// The operator's view: which mirrors serve whom and why. One model, rendered as a
// self-contained HTML page (inline SVG world map and CSS, no external asset, no
// script framework) and as JSON with the same data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace geosteer::metrics {

// One probed address of a mirror, judged on its own.
struct AddressStatus {
  std::string address;
  std::string state;  // as MirrorStatus::state
  std::string reason;
};

// Where a mirror's clients were: one cell of the location grid (metrics/catchment.h).
struct CatchmentCell {
  double lat = 0, lon = 0;             // the cell's centre
  std::vector<std::string> countries;  // of its clients, most answers first
  uint64_t answers = 0;                // answers naming the mirror first, over the window
};

// The clients a mirror was answered first to over the window, by cell.
struct Catchment {
  std::vector<CatchmentCell> cells;  // most answers first
  uint64_t unlocated = 0;            // answers to clients GeoIP has no coordinates for
  // Some of the counts are estimates: samples recorded 1 in N and counted N times.
  bool estimated = false;
};

struct MirrorStatus {
  std::string id;
  std::string url;
  double lat = 0, lon = 0;
  // As configured: its addresses (each family's, empty when it serves none), its
  // weight (capacity within a service's spread_km) and its home networks and ASes.
  std::vector<std::string> ipv4, ipv6;
  uint32_t weight = 100;
  std::vector<std::string> home_networks;
  std::vector<uint32_t> home_asns;
  // up, stale, slow, flapping, down or drained (drained wins over the probe
  // verdict): that of the mirror's worst address
  std::string state;
  std::string reason;
  std::optional<double> latency_ms;
  std::optional<int64_t> lag_seconds;
  std::optional<bool> fresh;  // absent until a probe has checked freshness
  std::optional<int64_t> last_transition_unix;  // absent: never changed since start
  bool probed = false;
  bool flapping = false;  // an address of the mirror is flapping
  std::vector<AddressStatus> addresses;  // empty when probes are off
  Catchment catchment;                   // over StatusModel::share_window_seconds
};

struct ServiceMirrorStatus {
  std::string mirror;   // id, see StatusModel::mirrors
  double answer_share;  // 0..1 of the service's answers over the window
  uint64_t answers;     // answers over the window
};

struct ServiceStatus {
  std::string name;  // fully qualified
  std::vector<ServiceMirrorStatus> mirrors;
};

// Queries answered per second over one interval, at its end.
struct QueryRatePoint {
  int64_t unix_time = 0;
  double per_second = 0;
};

// A GeoIP database of the served configuration, as its metadata describes it.
struct DatabaseStatus {
  std::string path;
  std::string kind;  // "city" or "asn"
  std::string type;  // database_type
  unsigned ip_version = 4;
  int64_t build_epoch = 0;
};

struct StatusModel {
  std::string identity;
  std::string version;
  uint64_t generation = 0;
  int64_t config_loaded_unix = 0;
  int64_t now_unix = 0;
  int64_t share_window_seconds = 300;  // what answer_share and the catchments cover
  bool probes_enabled = false;
  std::vector<MirrorStatus> mirrors;
  std::vector<ServiceStatus> services;
  // geosteer_dns_queries_total as a rate, every query_rate_step_seconds, oldest first.
  std::vector<QueryRatePoint> query_rate;
  int64_t query_rate_step_seconds = 10;
  std::vector<DatabaseStatus> databases;
};

std::string render_status_html(const StatusModel& model);  // refreshes itself
std::string render_status_json(const StatusModel& model);
// The document render_status_json writes, for documents that embed it (`ctl status
// --json`). Dump it with error_handler_t::replace: names and reasons may be malformed UTF-8.
nlohmann::ordered_json status_json(const StatusModel& model);

}  // namespace geosteer::metrics
