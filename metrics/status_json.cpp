// The status page's data as JSON (/status.json, and inside `geosteer ctl status
// --json`): the same model as the HTML page, for machines.
#include <nlohmann/json.hpp>

#include "metrics/catchment.h"
#include "metrics/status_page.h"
#include "metrics/status_text.h"

namespace geosteer::metrics {
namespace {

// ---- JSON ----------------------------------------------------------------------
// Keys stay in the order written (ordered_json), the order people read them in.
// Doubles are left as they are: dump() writes NaN and infinities as null.

using Json = nlohmann::ordered_json;

template <typename T>
Json or_null(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json json_address(const AddressStatus& address) {
  return {{"address", address.address}, {"state", address.state}, {"reason", address.reason}};
}

Json json_catchment(const Catchment& catchment) {
  uint64_t total = catchment.unlocated;
  Json cells = Json::array();
  for (const CatchmentCell& cell : catchment.cells) {
    total += cell.answers;
    cells.push_back({{"lat", cell.lat},
                     {"lon", cell.lon},
                     {"countries", cell.countries},
                     {"answers", cell.answers}});
  }
  return {{"answers", total},
          {"unlocated", catchment.unlocated},
          {"estimated", catchment.estimated},
          {"cells", std::move(cells)}};
}

Json json_mirror(const MirrorStatus& mirror) {
  Json addresses = Json::array();
  for (const AddressStatus& address : mirror.addresses) addresses.push_back(json_address(address));
  Json families = Json::array();
  if (!mirror.ipv4.empty()) families.push_back("ipv4");
  if (!mirror.ipv6.empty()) families.push_back("ipv6");
  return {{"id", mirror.id},
          {"url", mirror.url},
          {"lat", mirror.lat},
          {"lon", mirror.lon},
          {"state", mirror.state},
          {"reason", mirror.reason},
          {"latency_ms", or_null(mirror.latency_ms)},
          {"lag_seconds", or_null(mirror.lag_seconds)},
          {"last_transition_unix", or_null(mirror.last_transition_unix)},
          {"fresh", or_null(mirror.fresh)},
          {"probed", mirror.probed},
          {"flapping", mirror.flapping},
          {"addresses", std::move(addresses)},
          {"ipv4", mirror.ipv4},
          {"ipv6", mirror.ipv6},
          {"families", std::move(families)},
          {"weight", mirror.weight},
          {"home_networks", mirror.home_networks},
          {"home_asns", mirror.home_asns},
          {"catchment", json_catchment(mirror.catchment)}};
}

Json json_service(const ServiceStatus& service) {
  Json mirrors = Json::array();
  for (const ServiceMirrorStatus& entry : service.mirrors) {
    mirrors.push_back(
        {{"mirror", entry.mirror}, {"answer_share", entry.answer_share}, {"answers", entry.answers}});
  }
  return {{"name", service.name}, {"mirrors", std::move(mirrors)}};
}

Json json_query_rate(const StatusModel& model) {
  Json points = Json::array();
  for (const QueryRatePoint& p : model.query_rate) {
    points.push_back({{"unix", p.unix_time}, {"per_second", p.per_second}});
  }
  return {{"step_seconds", model.query_rate_step_seconds},
          {"current_per_second",
           model.query_rate.empty() ? Json(nullptr) : Json(model.query_rate.back().per_second)},
          {"points", std::move(points)}};
}

Json json_database(const DatabaseStatus& db, int64_t now_unix) {
  return {{"path", db.path},
          {"kind", db.kind},
          {"type", db.type},
          {"ip_version", db.ip_version},
          {"build_epoch", db.build_epoch},
          {"build_date", utc_time_text(db.build_epoch, "%Y-%m-%d")},
          {"age_seconds", now_unix - db.build_epoch}};
}

}  // namespace

nlohmann::ordered_json status_json(const StatusModel& model) {
  Json mirrors = Json::array();
  for (const MirrorStatus& mirror : model.mirrors) mirrors.push_back(json_mirror(mirror));
  Json services = Json::array();
  for (const ServiceStatus& service : model.services) services.push_back(json_service(service));
  Json databases = Json::array();
  for (const DatabaseStatus& db : model.databases) databases.push_back(json_database(db, model.now_unix));
  return {{"identity", model.identity},
          {"version", model.version},
          {"generation", model.generation},
          {"config_loaded_unix", model.config_loaded_unix},
          {"now_unix", model.now_unix},
          {"share_window_seconds", model.share_window_seconds},
          {"probes_enabled", model.probes_enabled},
          {"catchment_cell_degrees", kCatchmentCellDegrees},
          {"mirrors", std::move(mirrors)},
          {"services", std::move(services)},
          {"query_rate", json_query_rate(model)},
          {"databases", std::move(databases)}};
}

std::string render_status_json(const StatusModel& model) {
  return status_json(model).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace geosteer::metrics
