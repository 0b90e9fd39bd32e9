// The operator's view: which mirrors serve whom and why. One model, rendered as a
// self-contained HTML page (inline SVG world map and CSS, no external asset, no
// script framework) and as JSON with the same data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace geosteer::metrics {

struct MirrorStatus {
  std::string id;
  std::string url;
  double lat = 0, lon = 0;
  // up, stale, slow, down or drained (drained wins over the probe verdict)
  std::string state;
  std::string reason;
  std::optional<double> latency_ms;
  std::optional<int64_t> lag_seconds;
  std::optional<int64_t> last_transition_unix;  // absent: never changed since start
  bool probed = false;
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

struct StatusModel {
  std::string identity;
  std::string version;
  uint64_t generation = 0;
  int64_t config_loaded_unix = 0;
  int64_t now_unix = 0;
  int64_t share_window_seconds = 300;  // what answer_share covers
  bool probes_enabled = false;
  std::vector<MirrorStatus> mirrors;
  std::vector<ServiceStatus> services;
};

std::string render_status_html(const StatusModel& model);  // refreshes itself
std::string render_status_json(const StatusModel& model);

}  // namespace geosteer::metrics
