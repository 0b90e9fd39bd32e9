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

struct MirrorStatus {
  std::string id;
  std::string url;
  double lat = 0, lon = 0;
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
// The document render_status_json writes, for documents that embed it (`ctl status
// --json`). Dump it with error_handler_t::replace: names and reasons may be malformed UTF-8.
nlohmann::ordered_json status_json(const StatusModel& model);

}  // namespace geosteer::metrics
