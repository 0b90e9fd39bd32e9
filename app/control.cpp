#include "app/control.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "healthcheck/time_text.h"
#include "metrics/status_page.h"

namespace geosteer::app {
namespace {

constexpr std::chrono::milliseconds kReclaimRetry{100};

// One service as `ctl status` shows it: the tier of each family and its mirrors.
struct ServiceView {
  std::string name;
  std::string tier_a, tier_aaaa;
  struct Mirror {
    const metrics::MirrorStatus* status;
    double share;
  };
  std::vector<Mirror> mirrors;
};

std::vector<ServiceView> service_views(const Snapshot& snapshot, const metrics::StatusModel& model) {
  std::vector<ServiceView> views;
  const auto& services = snapshot.engine.services();
  for (size_t i = 0; i < services.size(); ++i) {
    ServiceView view;
    view.name = services[i].name;
    view.tier_a = steering::to_string(snapshot.engine.tier(i, Family::V4));
    view.tier_aaaa = steering::to_string(snapshot.engine.tier(i, Family::V6));
    const metrics::ServiceStatus* shares = nullptr;
    for (const auto& s : model.services) {
      if (s.name == view.name) shares = &s;
    }
    for (uint16_t m : services[i].mirrors) {
      double share = 0;
      if (shares != nullptr) {
        for (const auto& sm : shares->mirrors) {
          if (sm.mirror == model.mirrors[m].id) share = sm.answer_share;
        }
      }
      view.mirrors.push_back({&model.mirrors[m], share});
    }
    views.push_back(std::move(view));
  }
  return views;
}

// Keys stay in the order written, as in metrics::status_json.
using Json = nlohmann::ordered_json;

Json service_json(const ServiceView& service) {
  Json mirrors = Json::array();
  for (const auto& m : service.mirrors) {
    mirrors.push_back({{"id", m.status->id},
                       {"state", m.status->state},
                       {"reason", m.status->reason},
                       {"answer_share", m.share}});
  }
  return {{"name", service.name},
          {"tier", {{"A", service.tier_a}, {"AAAA", service.tier_aaaa}}},
          {"mirrors", std::move(mirrors)}};
}

}  // namespace

std::string listen_list(const zones::Config& config) {
  std::string out;
  for (const auto& listen : config.server.listen) out += (out.empty() ? "" : " ") + listen.str();
  return out;
}

Control::Control(boost::asio::io_context& io, std::string path,
                 std::shared_ptr<const LoadedConfig> loaded, SnapshotStore& store,
                 metrics::QueryMetrics& query_metrics, const ServiceNotifier& notifier,
                 AdminState admin)
    : io_(io),
      notifier_(notifier),
      path_(std::move(path)),
      loaded_(std::move(loaded)),
      store_(store),
      query_metrics_(query_metrics),
      admin_(std::move(admin)),
      reclaim_timer_(io),
      checker_(io, loaded_->config.checker, probe_targets(loaded_->config),
               [this](std::shared_ptr<const healthcheck::HealthState> health) {
                 publish(std::move(health));
               }),
      observability_(io, query_metrics, [this] { return store_.current(); },
                     [this] { return checker_.state(); }) {
  checker_.on_result([this](const healthcheck::Target& target, const healthcheck::ProbeResult& r,
                            const healthcheck::MirrorHealth& before,
                            const healthcheck::MirrorHealth& after) {
    observability_.probe_result(target, r, before, after);
  });
  for (const auto& mirror : admin_.drained()) log::info("mirror " + mirror + " is drained (" + admin_.path() + ")");
  publish(checker_.state());
  observability_.config_loaded(*loaded_);
}

Control::~Control() {
  if (loading_) log::info("stopping once the reload in progress is done");
  if (loader_.joinable()) loader_.join();
}

void Control::start() {
  observability_.start(loaded_->config.metrics);
  checker_.start();
  observability_.set_serving(true);
}

void Control::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  notifier_.notify("STOPPING=1\nSTATUS=stopping");
  observability_.set_serving(false);
}

void Control::stop() {
  begin_stop();
  stopped_ = true;
  checker_.stop();
  observability_.stop();
}

void Control::reload(ReloadDone done) {
  if (loading_) {
    if (!reload_again_) log::info("reload: asked again while loading; loading once more after it");
    reload_again_ = true;
    if (done) waiting_for_next_load_.push_back(std::move(done));
    return;
  }
  if (done) waiting_for_this_load_.push_back(std::move(done));
  start_load();
}

void Control::start_load() {
  loading_ = true;
  log::info("reloading " + path_);
  notifier_.notify("RELOADING=1\n" + ServiceNotifier::monotonic_usec() + "\nSTATUS=reloading " + path_);
  if (loader_.joinable()) loader_.join();
  loader_ = std::thread([this, generation = loaded_->generation + 1] {
    Loaded next = load_for_reload(path_, generation);
    boost::asio::post(io_, [this, next = std::move(next)]() mutable { switch_over(std::move(next)); });
  });
}

// On the loader thread.
Control::Loaded Control::load_for_reload(const std::string& path, uint64_t generation) {
  Loaded out;
  try {
    auto next = load_config(path, generation);
    // Everything that can still fail is tried before anything is switched over, so
    // a reload either happens whole or not at all.
    build_snapshot(next, nullptr);
    out.config = std::move(next);
  } catch (const zones::ConfigErrors& e) {
    for (const auto& error : e.errors()) out.errors.push_back(error.str());
  } catch (const std::exception& e) {
    out.errors.push_back(e.what());
  }
  for (const auto& error : out.errors) log::error("reload: " + error);
  return out;
}

void Control::switch_over(Loaded next) {
  loading_ = false;
  auto waiting = std::move(waiting_for_this_load_);
  waiting_for_this_load_ = std::move(waiting_for_next_load_);
  waiting_for_next_load_.clear();
  if (stopped_) return;
  const bool ok = next.config != nullptr;
  if (!ok) {
    observability_.config_failed();
    log::error("reload failed; still serving generation " + std::to_string(loaded_->generation));
    notifier_.notify("READY=1\nSTATUS=reload failed; serving generation " +
                     std::to_string(loaded_->generation));
  } else {
    if (listen_list(next.config->config) != listen_list(loaded_->config)) {
      log::warning("reload: listen addresses changed; they take effect after a restart");
    }
    loaded_ = std::move(next.config);
    // Publishes the snapshot of the new configuration with the carried-over health.
    checker_.reconfigure(loaded_->config.checker, probe_targets(loaded_->config));
    observability_.config_loaded(*loaded_);
    log::info("reloaded " + path_ + ", generation " + std::to_string(loaded_->generation));
    notifier_.notify("READY=1\nSTATUS=serving generation " + std::to_string(loaded_->generation));
  }
  for (auto& done : waiting) done(ok, next.errors);
  if (reload_again_) {
    reload_again_ = false;
    start_load();
  }
}

std::optional<std::string> Control::set_drained(const std::string& mirror, bool drained) {
  bool known = false;
  for (const auto& m : loaded_->config.mirrors) known = known || m.id == mirror;
  // Undraining a mirror a reload removed must stay possible, or its line would stay.
  if (!known && (drained || admin_.drained().count(mirror) == 0)) {
    std::string ids;
    for (const auto& m : loaded_->config.mirrors) ids += (ids.empty() ? "" : ", ") + m.id;
    return "no mirror '" + mirror + "' in " + path_ + " (mirrors: " + ids + ")";
  }
  if ((admin_.drained().count(mirror) != 0) == drained) {
    return "mirror '" + mirror + "' is " + (drained ? "already drained" : "not drained");
  }
  try {
    admin_.set_drained(mirror, drained);
  } catch (const std::exception& e) {
    return std::string(e.what()) + "; nothing changed";
  }
  log::info(std::string(drained ? "drained" : "undrained") + " mirror " + mirror + " (ctl)");
  publish(checker_.state());
  return std::nullopt;
}

std::optional<std::string> Control::set_withdrawn_by_operator(bool withdrawn) {
  try {
    admin_.set_withdrawn(withdrawn);
  } catch (const std::exception& e) {
    return std::string(e.what()) + "; nothing changed";
  }
  return std::nullopt;
}

// A snapshot that cannot be built (memory exhausted) leaves the previous one serving
// with health it no longer reflects: logged, and an anycast node withdraws until a
// later publish succeeds.
void Control::publish(std::shared_ptr<const healthcheck::HealthState> health) {
  try {
    store_.publish(build_snapshot(loaded_, std::move(health), &query_metrics_, admin_.drained()));
    if (!publishing_) log::info("publishing snapshots again");
    publishing_ = true;
  } catch (const std::exception& e) {
    if (publishing_) log::error(std::string("cannot publish a new snapshot: ") + e.what());
    publishing_ = false;
  }
  reclaim();
}

// Frees replaced snapshots here, on the control thread, once no query holds them; a
// query lasts microseconds, so a retry soon after frees what is left.
void Control::reclaim() {
  if (store_.reclaim() == 0) return;
  reclaim_timer_.expires_after(kReclaimRetry);
  reclaim_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) reclaim();
  });
}

std::string Control::status_text() {
  auto snapshot = store_.current();
  metrics::StatusModel model = observability_.status_model();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  std::ostringstream out;
  out << "geosteer " << model.version << ", identity " << model.identity << "\n"
      << "generation " << model.generation << " of " << path_ << ", up "
      << healthcheck::format_duration(uptime) << (stopping_ ? ", stopping" : "") << "\n"
      << "probes " << (model.probes_enabled ? "on" : "off (every mirror counts as up)") << "\n"
      << "anycast: " << (anycast_status_ ? anycast_status_() : std::string("not configured")) << "\n";
  for (const ServiceView& service : service_views(*snapshot, model)) {
    out << "\nservice " << service.name << "  A from " << service.tier_a << ", AAAA from "
        << service.tier_aaaa << "\n";
    for (const auto& m : service.mirrors) {
      char share[16];
      std::snprintf(share, sizeof share, "%5.1f%%", m.share * 100);
      out << "  " << m.status->id << std::string(m.status->id.size() < 14 ? 14 - m.status->id.size() : 1, ' ')
          << m.status->state << std::string(m.status->state.size() < 10 ? 10 - m.status->state.size() : 1, ' ')
          << share << " of answers";
      if (!m.status->reason.empty()) out << "  " << m.status->reason;
      out << "\n";
    }
  }
  return out.str();
}

std::string Control::status_json() {
  auto snapshot = store_.current();
  metrics::StatusModel model = observability_.status_model();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  Json services = Json::array();
  for (const ServiceView& service : service_views(*snapshot, model)) services.push_back(service_json(service));
  Json status = {{"generation", model.generation},
                 {"config", path_},
                 {"uptime_seconds", uptime.count()},
                 {"stopping", stopping_},
                 {"anycast", anycast_status_ ? Json(anycast_status_()) : Json(nullptr)},
                 {"services", std::move(services)},
                 {"status", metrics::status_json(model)}};
  // The path, names and reasons may be malformed UTF-8: replaced rather than thrown on.
  return status.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace geosteer::app
