#include "app/observability.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/log.h"
#include "metrics/catchment.h"

namespace geosteer::app {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// How often answer totals are sampled for the status page's shares.
constexpr std::chrono::seconds kSampleEvery{10};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t unix_time(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

MetricFamily gauge_family(std::string name, std::string help) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = MetricType::Gauge;
  return family;
}

void add_sample(MetricFamily& family, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

void add_gauge(MetricFamily& family, const std::string& mirror, double value,
               const std::string& address = {}) {
  std::vector<ClientMetric::Label> labels{{"mirror", mirror}};
  if (!address.empty()) labels.push_back({"address", address});
  add_sample(family, std::move(labels), value);
}

const healthcheck::MirrorHealth& health_of(const healthcheck::HealthState* health, size_t mirror) {
  static const healthcheck::MirrorHealth kInitial{};
  return health && mirror < health->mirrors.size() ? health->mirrors[mirror] : kInitial;
}

const std::vector<healthcheck::AddressHealth>& addresses_of(const healthcheck::HealthState* health,
                                                            size_t mirror) {
  static const std::vector<healthcheck::AddressHealth> kNone;
  return health && mirror < health->addresses.size() ? health->addresses[mirror] : kNone;
}

bool any_flapping(const std::vector<healthcheck::AddressHealth>& addresses,
                  const healthcheck::MirrorHealth& mirror) {
  return mirror.verdict == healthcheck::Verdict::Flapping ||
         std::any_of(addresses.begin(), addresses.end(), [](const auto& a) {
           return a.health.verdict == healthcheck::Verdict::Flapping;
         });
}

// Probe latencies span a LAN mirror's milliseconds to a far one's seconds.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// Drained (by `drain: true` or `geosteer ctl drain`) wins over the probe's verdict:
// the mirror is probed but not answered.
std::string state_of(bool drained, const healthcheck::MirrorHealth& health) {
  return drained ? "drained" : healthcheck::to_string(health.verdict);
}

// Per service, what its answers can draw on now: the `answers` setting, and per
// address family the mirrors that could answer at all (not drained, with an address
// of the family) and those of them that are up, the candidates of the healthy tier.
// The alert rules compare these, so that "fewer healthy mirrors than answers" needs
// no guessing in PromQL.
std::vector<MetricFamily> service_gauges(const Snapshot& snapshot) {
  MetricFamily answers = gauge_family("geosteer_service_answers",
                                      "The service's answers setting: distinct mirrors per answer");
  MetricFamily mirrors = gauge_family(
      "geosteer_service_mirrors", "Mirrors of the service that can answer for the family: not drained, with an address of it");
  MetricFamily healthy = gauge_family(
      "geosteer_service_healthy_mirrors", "Of those, the mirrors that are up: the candidates of healthy answers");
  const steering::Engine& engine = snapshot.engine;
  for (size_t i = 0; i < engine.services().size(); ++i) {
    const steering::ServiceSpec& service = engine.services()[i];
    add_sample(answers, {{"service", service.name}}, service.answers);
    for (Family family : {Family::V4, Family::V6}) {
      double members = 0, up = 0;
      for (uint16_t m : service.mirrors) {
        const steering::Mirror& mirror = engine.mirrors()[m];
        bool has = !(family == Family::V4 ? mirror.ipv4 : mirror.ipv6).empty();
        if (!has || engine.drained(m)) continue;
        ++members;
        if (engine.verdict(m, family) == healthcheck::Verdict::Up) ++up;
      }
      const char* label = family == Family::V4 ? "ipv4" : "ipv6";
      add_sample(mirrors, {{"service", service.name}, {"family", label}}, members);
      add_sample(healthy, {{"service", service.name}, {"family", label}}, up);
    }
  }
  return {answers, mirrors, healthy};
}

// The steering map of the configuration being served: how long it took to compile
// and, per service (its four maps: client and answer family), its size.
std::vector<MetricFamily> steering_map_gauges(const LoadedConfig& loaded) {
  MetricFamily build = gauge_family("geosteer_steering_map_build_seconds",
                                    "How long compiling the steering map of this configuration took");
  MetricFamily ranges = gauge_family(
      "geosteer_steering_map_entries", "Address ranges with one ranking of the service's mirrors");
  MetricFamily rankings = gauge_family("geosteer_steering_map_rankings",
                                       "Distinct rankings of the service's mirrors, each stored once");
  MetricFamily bytes = gauge_family("geosteer_steering_map_bytes", "Memory the service's map uses");
  add_sample(build, {}, std::chrono::duration<double>(loaded.steering_build_time).count());
  if (loaded.steering) {
    const steering::SteeringMap& map = *loaded.steering;
    for (size_t i = 0; i < map.maps.size(); ++i) {
      steering::MapFigures figures = map.maps[i].figures();
      const std::string& service = map.services[i].name;
      add_sample(ranges, {{"service", service}}, static_cast<double>(figures.ranges));
      add_sample(rankings, {{"service", service}}, static_cast<double>(figures.rankings));
      add_sample(bytes, {{"service", service}}, static_cast<double>(figures.bytes));
    }
  }
  return {build, ranges, rankings, bytes};
}

}  // namespace

Observability::Observability(boost::asio::io_context& io, metrics::QueryMetrics& query_metrics,
                             SnapshotSource snapshot, HealthSource health)
    : io_(io),
      query_metrics_(query_metrics),
      snapshot_(std::move(snapshot)),
      health_(std::move(health)),
      sampler_(io),
      registry_(std::make_shared<prometheus::Registry>()),
      probe_latency_(prometheus::BuildHistogram()
                         .Name("geosteer_mirror_probe_latency_seconds")
                         .Help("Time to first byte of mirror liveness probes")
                         .Register(*registry_)),
      probes_(prometheus::BuildCounter()
                  .Name("geosteer_mirror_probes_total")
                  .Help("Mirror probes by result (ok, failed, stale, slow)")
                  .Register(*registry_)),
      transitions_(prometheus::BuildCounter()
                       .Name("geosteer_mirror_transitions_total")
                       .Help("Mirror health verdict changes by the verdict entered")
                       .Register(*registry_)),
      generation_(prometheus::BuildGauge()
                      .Name("geosteer_config_generation")
                      .Help("Generation of the configuration being served (successful loads)")
                      .Register(*registry_)
                      .Add({})),
      last_load_success_(prometheus::BuildGauge()
                             .Name("geosteer_config_last_load_success")
                             .Help("1 when the last configuration load or reload succeeded")
                             .Register(*registry_)
                             .Add({})),
      last_load_timestamp_(prometheus::BuildGauge()
                               .Name("geosteer_config_last_load_timestamp_seconds")
                               .Help("UNIX time of the last successful configuration load")
                               .Register(*registry_)
                               .Add({})),
      geoip_build_epoch_(prometheus::BuildGauge()
                             .Name("geosteer_geoip_build_epoch_seconds")
                             .Help("Build time of each GeoIP database, from its metadata")
                             .Register(*registry_)) {
  prometheus::BuildGauge()
      .Name("geosteer_build_info")
      .Help("Version of the running geosteer")
      .Register(*registry_)
      .Add({{"version", GEOSTEER_VERSION}})
      .Set(1);
  auto now = std::chrono::steady_clock::now();
  samples_.push_back({now, {}});
  query_rate_.add(now, unix_now(), query_metrics_.total_queries());
}

Observability::~Observability() { stop(); }

void Observability::start(const zones::MetricsConfig& config) {
  share_window_ = config.share_window;
  query_metrics_.set_catchment_window(static_cast<uint32_t>(share_window_.count()));
  schedule_sampling();
  if (!config.enabled) return;
  metrics::HttpServerOptions options;
  options.address = config.listen.address;
  options.port = config.listen.port;
  http_ = std::make_unique<metrics::HttpServer>(io_, options,
                                                [this](std::string_view path) { return handle(path); });
  std::string host = config.listen.address.to_string();
  if (config.listen.address.family == Family::V6) host = "[" + host + "]";
  log::info("metrics and status page on http://" + host + ":" + std::to_string(http_->port()) + "/");
}

void Observability::stop() {
  sampler_.cancel();
  if (http_) http_->stop();
}

uint16_t Observability::http_port() const { return http_ ? http_->port() : 0; }

void Observability::config_loaded(const LoadedConfig& loaded) {
  generation_.Set(static_cast<double>(loaded.generation));
  last_load_success_.Set(1);
  config_loaded_unix_ = unix_now();
  last_load_timestamp_.Set(static_cast<double>(config_loaded_unix_));
  if (loaded.geoip) {
    for (const auto& db : loaded.geoip->databases()) {
      geoip_build_epoch_.Add({{"database", db.path}}).Set(static_cast<double>(db.build_epoch));
    }
  }
}

void Observability::config_failed() { last_load_success_.Set(0); }

void Observability::probe_result(const healthcheck::Target& target,
                                 const healthcheck::ProbeResult& result,
                                 const healthcheck::MirrorHealth& before,
                                 const healthcheck::MirrorHealth& after) {
  probes_.Add({{"mirror", target.mirror_id}, {"result", healthcheck::to_string(result.outcome)}})
      .Increment();
  // A probe that timed out before its first byte took at least the timeout: left
  // out, the histogram would look best exactly when mirrors hang.
  std::optional<double> seconds;
  if (result.first_byte_ms) seconds = *result.first_byte_ms / 1000.0;
  else if (result.timed_out) seconds = std::chrono::duration<double>(target.settings.timeout).count();
  if (seconds) probe_latency_.Add({{"mirror", target.mirror_id}}, latency_buckets()).Observe(*seconds);
  if (before.verdict != after.verdict) {
    transitions_.Add({{"mirror", target.mirror_id}, {"to", healthcheck::to_string(after.verdict)}})
        .Increment();
  }
}

// Current mirror state as gauges, built at scrape time from the snapshot and the
// checker's state, so mirrors removed by a reload disappear from the exposition.
std::vector<MetricFamily> Observability::mirror_gauges() {
  auto snapshot = snapshot_();
  auto health = health_();
  MetricFamily up = gauge_family("geosteer_mirror_up",
                                 "1 when the mirror's verdict (that of its worst address) is up");
  MetricFamily address_up = gauge_family("geosteer_mirror_address_up",
                                         "1 when the verdict of this address of the mirror is up");
  MetricFamily fresh = gauge_family(
      "geosteer_mirror_fresh", "1 in sync, 0 stale; absent until a probe has checked freshness");
  MetricFamily lag = gauge_family("geosteer_mirror_freshness_lag_seconds",
                                  "How far the mirror lags behind, at its last probe");
  MetricFamily flapping = gauge_family(
      "geosteer_mirror_flapping", "1 while an address of the mirror changes verdict too often");
  MetricFamily drained = gauge_family(
      "geosteer_mirror_drained",
      "1 while the mirror is drained (drain: true, or geosteer ctl drain): probed, never answered");
  const auto& mirrors = snapshot->config.mirrors;
  for (size_t i = 0; i < mirrors.size(); ++i) {
    const std::string& id = mirrors[i].id;
    const healthcheck::MirrorHealth& h = health_of(health.get(), i);
    const auto& addresses = addresses_of(health.get(), i);
    add_gauge(up, id, h.verdict == healthcheck::Verdict::Up ? 1 : 0);
    for (const auto& a : addresses) {
      add_gauge(address_up, id, a.health.verdict == healthcheck::Verdict::Up ? 1 : 0,
                a.address.to_string());
    }
    if (h.fresh) add_gauge(fresh, id, *h.fresh ? 1 : 0);
    if (h.lag_seconds) add_gauge(lag, id, static_cast<double>(*h.lag_seconds));
    add_gauge(flapping, id, any_flapping(addresses, h) ? 1 : 0);
    add_gauge(drained, id, snapshot->engine.drained(i) ? 1 : 0);
  }
  return {up, address_up, fresh, lag, flapping, drained};
}

std::string Observability::metrics_text() {
  std::vector<MetricFamily> families = registry_->Collect();
  for (auto& family : mirror_gauges()) families.push_back(std::move(family));
  if (anycast_announced_) {
    MetricFamily announced = gauge_family(
        "geosteer_anycast_announced", "1 while this node announces its anycast prefixes through BIRD");
    add_sample(announced, {}, *anycast_announced_ ? 1 : 0);
    families.push_back(std::move(announced));
  }
  for (auto& family : steering_map_gauges(*snapshot_()->loaded)) families.push_back(std::move(family));
  for (auto& family : service_gauges(*snapshot_())) families.push_back(std::move(family));
  for (auto& family : query_metrics_.collect()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

void Observability::schedule_sampling() {
  sampler_.expires_after(kSampleEvery);
  sampler_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    sample_answers();
    schedule_sampling();
  });
}

void Observability::sample_answers() {
  Sample sample{std::chrono::steady_clock::now(), {}};
  query_rate_.add(sample.at, unix_now(), query_metrics_.total_queries());
  for (auto& total : query_metrics_.answer_totals()) {
    sample.answers[{total.service, total.mirror}] = total.count;
  }
  samples_.push_back(std::move(sample));
  // Keep one sample at or beyond the window's start, so shares cover the window.
  while (samples_.size() > 2 && samples_[1].at <= samples_.back().at - share_window_) {
    samples_.pop_front();
  }
}

metrics::StatusModel Observability::status_model() {
  auto snapshot = snapshot_();
  auto health = health_();
  const zones::Config& config = snapshot->config;
  metrics::StatusModel model;
  model.identity = config.server.identity;
  model.version = GEOSTEER_VERSION;
  model.generation = snapshot->generation;
  model.config_loaded_unix = config_loaded_unix_;
  model.now_unix = unix_now();
  model.share_window_seconds = share_window_.count();
  model.probes_enabled = config.checker.enabled;

  for (size_t i = 0; i < config.mirrors.size(); ++i) {
    const auto& mirror = config.mirrors[i];
    const healthcheck::MirrorHealth& h = health_of(health.get(), i);
    metrics::MirrorStatus status;
    status.id = mirror.id;
    status.url = mirror.url;
    status.lat = snapshot->loaded->mirrors[i].location.lat;
    status.lon = snapshot->loaded->mirrors[i].location.lon;
    for (const IpAddress& a : mirror.ipv4) status.ipv4.push_back(a.to_string());
    for (const IpAddress& a : mirror.ipv6) status.ipv6.push_back(a.to_string());
    status.weight = mirror.weight;
    for (const IpPrefix& network : mirror.networks) status.home_networks.push_back(network.to_string());
    status.home_asns = mirror.asns;
    const bool drained = snapshot->engine.drained(i);
    status.state = state_of(drained, h);
    status.reason = h.reason;
    status.latency_ms = h.latency_ms;
    status.lag_seconds = h.lag_seconds;
    if (h.last_transition.time_since_epoch().count() != 0) {
      status.last_transition_unix = unix_time(h.last_transition);
    }
    status.probed = h.probed;
    status.fresh = h.fresh;
    const auto& addresses = addresses_of(health.get(), i);
    status.flapping = any_flapping(addresses, h);
    for (const auto& a : addresses) {
      status.addresses.push_back({a.address.to_string(), state_of(drained, a.health), a.health.reason});
    }
    model.mirrors.push_back(std::move(status));
  }

  // Shares: answers since the oldest kept sample, per service.
  std::map<std::pair<std::string, std::string>, uint64_t> now;
  for (auto& total : query_metrics_.answer_totals()) now[{total.service, total.mirror}] = total.count;
  const auto& then = samples_.front().answers;
  for (const auto& service : snapshot->loaded->services) {
    metrics::ServiceStatus status{service.name, {}};
    uint64_t service_total = 0;
    for (uint16_t index : service.mirrors) {
      const std::string& id = snapshot->loaded->mirrors[index].id;
      auto key = std::make_pair(service.name, id);
      auto before = then.find(key);
      uint64_t count = now[key] - (before == then.end() ? 0 : before->second);
      status.mirrors.push_back({id, 0.0, count});
      service_total += count;
    }
    for (auto& m : status.mirrors) {
      m.answer_share = service_total ? static_cast<double>(m.answers) / static_cast<double>(service_total) : 0;
    }
    model.services.push_back(std::move(status));
  }

  add_catchments(model, *snapshot);
  model.query_rate = query_rate_.points();
  model.query_rate_step_seconds = std::chrono::duration_cast<std::chrono::seconds>(kSampleEvery).count();
  if (snapshot->loaded->geoip) {
    for (const steering::DatabaseInfo& db : snapshot->loaded->geoip->databases()) {
      model.databases.push_back({db.path, steering::to_string(db.kind), db.type, db.ip_version,
                                 static_cast<int64_t>(db.build_epoch)});
    }
  }
  return model;
}

// Who was answered which mirror first over the window: the query threads' samples,
// placed by the served configuration's GeoIP, here on the control thread.
void Observability::add_catchments(metrics::StatusModel& model, const Snapshot& snapshot) {
  std::vector<metrics::CatchmentSample> samples =
      query_metrics_.catchment_samples(metrics::catchment_clock());
  std::map<std::string_view, int> index_of;
  for (size_t i = 0; i < model.mirrors.size(); ++i) index_of.emplace(model.mirrors[i].id, static_cast<int>(i));
  // Labels outlive reloads: one of a mirror since removed maps to none.
  std::vector<int> mirror_of_label;
  for (const auto& [service, mirror] : query_metrics_.answer_label_names()) {
    auto found = index_of.find(mirror);
    mirror_of_label.push_back(found == index_of.end() ? -1 : found->second);
  }
  auto locate = [&](const IpAddress& network) {
    steering::GeoResult found = snapshot.engine.locate(network);
    metrics::ClientPlace place;
    if (found.location.coordinates) {
      place.located = true;
      place.lat = found.location.coordinates->lat;
      place.lon = found.location.coordinates->lon;
    }
    place.country = found.location.country;
    return place;
  };
  std::vector<metrics::Catchment> catchments =
      metrics::group_catchment(samples, mirror_of_label, model.mirrors.size(), locate);
  for (size_t i = 0; i < model.mirrors.size(); ++i) model.mirrors[i].catchment = std::move(catchments[i]);
}

metrics::HttpResponse Observability::handle(std::string_view path) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()};
  }
  if (path == "/" || path == "/index.html") {
    return {200, "text/html; charset=utf-8", metrics::render_status_html(status_model())};
  }
  if (path == "/status.json") {
    return {200, "application/json", metrics::render_status_json(status_model())};
  }
  if (path == "/healthz") {
    if (serving_) return {200, "text/plain; charset=utf-8", "ok\n"};
    return {503, "text/plain; charset=utf-8", "not serving\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace geosteer::app
