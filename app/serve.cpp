// `geosteer serve`: load, bind, probe mirrors, answer; SIGHUP reloads without
// dropping a query, SIGINT/SIGTERM stop.
#include <ostream>
#include <thread>

#include "app/commands.h"
#include "app/loader.h"
#include "app/watchdog.h"
#include "common/asio.h"
#include "common/fd_limit.h"
#include "common/log.h"
#include "common/service_notify.h"
#include "dns/server.h"
#include "app/observability.h"
#include "app/rate_limit.h"
#include "healthcheck/checker.h"
#include "metrics/query_metrics.h"

namespace geosteer::app {
namespace {

// Every query thread has its own reader (a hazard slot): a query pins the current
// snapshot without touching a reference count.
class SnapshotHandler : public dns::QueryHandler {
 public:
  SnapshotHandler(SnapshotStore& store, metrics::QueryMetrics& metrics)
      : store_(store), metrics_(metrics) {}

  size_t handle(std::span<const uint8_t> query, const dns::RequestInfo& info,
                std::span<uint8_t> out) override {
    thread_local SnapshotReader reader(store_);
    dns::QueryOutcome outcome;
    auto snapshot = reader.pin();  // for this query only: see SnapshotStore
    size_t length = snapshot->responder.respond(query, info, out, &outcome);
    LimitedResponse limited = limit_response(*snapshot->loaded->limiter, outcome, info, out, length,
                                             ratelimit::Limiter::Clock::now());
    count(outcome, info.transport, limited.verdict);
    return limited.length;
  }

 private:
  void count(const dns::QueryOutcome& outcome, dns::Transport transport,
             ratelimit::Verdict verdict) {
    if (outcome.drop != dns::QueryOutcome::Drop::None) {
      metrics_.count_dropped(outcome.drop == dns::QueryOutcome::Drop::Response
                                 ? metrics::DropReason::Response
                                 : metrics::DropReason::Malformed);
      return;
    }
    if (verdict == ratelimit::Verdict::Drop) {
      metrics_.count_dropped(metrics::DropReason::RateLimited);
      return;
    }
    if (verdict == ratelimit::Verdict::Slip) metrics_.count_slipped();
    metrics_.count_query(transport == dns::Transport::Udp ? metrics::Transport::Udp
                                                          : metrics::Transport::Tcp,
                         outcome.qtype, outcome.rcode);
    if (outcome.ecs) metrics_.count_ecs();
    if (outcome.truncated) metrics_.count_truncated();
  }

  SnapshotStore& store_;
  metrics::QueryMetrics& metrics_;
};

dns::ServerOptions server_options(const zones::Config& config) {
  dns::ServerOptions options;
  for (const auto& listen : config.server.listen) options.listen.push_back({listen.address, listen.port});
  options.threads = config.server.threads;
  options.tcp_idle_timeout = config.server.tcp_idle_timeout;
  options.tcp_io_timeout = config.server.tcp_io_timeout;
  options.tcp_max_connections = config.server.tcp_max_connections;
  return options;
}

// Each TCP connection takes a file descriptor: raise the soft limit towards the
// hard one, and say so when even that leaves too few for the configured slots.
void raise_open_files_limit(const zones::Config& config) {
  FdLimit before = fd_limit();
  FdLimit now = raise_fd_limit();
  if (now.soft > before.soft) {
    log::info("open files limit raised from " + std::to_string(before.soft) + " to " +
              std::to_string(now.soft));
  } else {
    log::info("open files limit " + std::to_string(now.soft) + " (the hard limit is " +
              std::to_string(now.hard) + ")");
  }
  unsigned threads = config.server.threads ? config.server.threads
                                           : std::max(1u, std::thread::hardware_concurrency());
  // TCP slots, plus the UDP and TCP sockets of each thread and listen address, the
  // monitoring port, probes and files: a margin.
  uint64_t needed = uint64_t{threads} * config.server.tcp_max_connections +
                    uint64_t{threads} * 2 * config.server.listen.size() + 256;
  if (now.soft < needed) {
    log::warning("open files limit " + std::to_string(now.soft) + " is below the " +
                 std::to_string(needed) + " that " + std::to_string(threads) + " threads of " +
                 std::to_string(config.server.tcp_max_connections) +
                 " TCP connections need; when it is reached the most idle connection is closed "
                 "for each new one");
  }
}

std::string listen_list(const zones::Config& config) {
  std::string out;
  for (const auto& listen : config.server.listen) out += (out.empty() ? "" : " ") + listen.str();
  return out;
}

constexpr std::chrono::milliseconds kReclaimRetry{100};

// The control side of the server: reloads and health changes, both on one thread
// (the control io_context), each publishing a complete new snapshot.
class Control {
 public:
  Control(boost::asio::io_context& io, std::string path, std::shared_ptr<const LoadedConfig> loaded,
          SnapshotStore& store, metrics::QueryMetrics& query_metrics,
          const ServiceNotifier& notifier)
      : io_(io),
        notifier_(notifier),
        path_(std::move(path)),
        loaded_(std::move(loaded)),
        store_(store),
        query_metrics_(query_metrics),
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
    publish(checker_.state());
    observability_.config_loaded(*loaded_);
  }

  // Throws std::system_error when the metrics port cannot be bound.
  void start() {
    observability_.start(loaded_->config.metrics);
    checker_.start();
    observability_.set_serving(true);
  }

  // The first step of a stop: /healthz turns 503 so that whatever watches it moves
  // clients elsewhere, while queries are still answered.
  void begin_stop() {
    if (stopping_) return;
    stopping_ = true;
    notifier_.notify("STOPPING=1\nSTATUS=stopping");
    observability_.set_serving(false);
  }

  void stop() {
    begin_stop();
    stopped_ = true;
    checker_.stop();
    observability_.stop();
  }

  // The configuration's drain time, as last loaded.
  std::chrono::milliseconds drain_time() const { return loaded_->config.server.drain_time; }

  // SIGHUP. Loading parses the files and compiles the steering map, seconds on a
  // large GeoIP database, so it runs on a thread of its own: probes, health changes
  // and the monitoring port carry on meanwhile, and queries are answered from the
  // current snapshot. The result is switched over here, on the control thread. A
  // SIGHUP while a load runs asks for one more load once it is done, so the last
  // edit of the file is always the one loaded.
  void reload() {
    if (loading_) {
      if (!reload_again_) log::info("reload: asked again while loading; loading once more after it");
      reload_again_ = true;
      return;
    }
    loading_ = true;
    log::info("reloading " + path_);
    notifier_.notify("RELOADING=1\n" + ServiceNotifier::monotonic_usec() + "\nSTATUS=reloading " +
                     path_);
    if (loader_.joinable()) loader_.join();
    loader_ = std::thread([this, generation = loaded_->generation + 1] {
      std::shared_ptr<const LoadedConfig> next = load_for_reload(path_, generation);
      boost::asio::post(io_, [this, next] { switch_over(next); });
    });
  }

  // A stop waits for a load that is running: it cannot be interrupted, and takes
  // at most one map compile.
  ~Control() {
    if (loading_) log::info("stopping once the reload in progress is done");
    if (loader_.joinable()) loader_.join();
  }

 private:
  // On the loader thread; null when the new configuration cannot be used (logged).
  static std::shared_ptr<const LoadedConfig> load_for_reload(const std::string& path,
                                                             uint64_t generation) {
    try {
      auto next = load_config(path, generation);
      // Everything that can still fail is tried before anything is switched over,
      // so a reload either happens whole or not at all.
      build_snapshot(next, nullptr);
      return next;
    } catch (const zones::ConfigErrors& e) {
      for (const auto& error : e.errors()) log::error("reload: " + error.str());
    } catch (const std::exception& e) {
      log::error(std::string("reload: ") + e.what());
    }
    return nullptr;
  }

  void switch_over(std::shared_ptr<const LoadedConfig> next) {
    loading_ = false;
    if (stopped_) return;
    if (!next) {
      reload_failed();
      notifier_.notify("READY=1\nSTATUS=reload failed; serving generation " +
                       std::to_string(loaded_->generation));
    } else {
      if (listen_list(next->config) != listen_list(loaded_->config)) {
        log::warning("reload: listen addresses changed; they take effect after a restart");
      }
      loaded_ = std::move(next);
      // Publishes the snapshot of the new configuration with the carried-over health.
      checker_.reconfigure(loaded_->config.checker, probe_targets(loaded_->config));
      observability_.config_loaded(*loaded_);
      log::info("reloaded " + path_ + ", generation " + std::to_string(loaded_->generation));
      notifier_.notify("READY=1\nSTATUS=serving generation " + std::to_string(loaded_->generation));
    }
    if (reload_again_) {
      reload_again_ = false;
      reload();
    }
  }

  void reload_failed() {
    observability_.config_failed();
    log::error("reload failed; still serving generation " + std::to_string(loaded_->generation));
  }

  void publish(std::shared_ptr<const healthcheck::HealthState> health) {
    store_.publish(build_snapshot(loaded_, std::move(health), &query_metrics_));
    reclaim();
  }

  // Frees replaced snapshots here, on the control thread, once no query holds them;
  // a query lasts microseconds, so a retry soon after frees what is left.
  void reclaim() {
    if (store_.reclaim() == 0) return;
    reclaim_timer_.expires_after(kReclaimRetry);
    reclaim_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) reclaim();
    });
  }

  boost::asio::io_context& io_;
  const ServiceNotifier& notifier_;
  std::string path_;
  std::shared_ptr<const LoadedConfig> loaded_;
  SnapshotStore& store_;
  metrics::QueryMetrics& query_metrics_;
  boost::asio::steady_timer reclaim_timer_;
  healthcheck::Checker checker_;
  Observability observability_;
  // The reload in progress, if any; the flags are only touched on the control thread.
  std::thread loader_;
  bool loading_ = false;
  bool reload_again_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
};

}  // namespace

int run_serve(const CommandLine& cl, std::ostream& err) {
  auto loaded = load_or_report(cl.config_path, 1, err);
  if (!loaded) return 1;

  boost::asio::io_context control_io;
  ServiceNotifier notifier = ServiceNotifier::from_environment();
  SnapshotStore store;
  metrics::QueryMetrics query_metrics;
  dns::ServerOptions options = server_options(loaded->config);
  raise_open_files_limit(loaded->config);
  std::string started = std::to_string(loaded->config.zones.size()) + " zone(s) on " +
                        listen_list(loaded->config) + " (udp+tcp), identity " +
                        loaded->config.server.identity;
  // Control owns the configuration from here: a reload must be able to free it.
  Control control(control_io, cl.config_path, std::move(loaded), store, query_metrics, notifier);
  SnapshotHandler handler(store, query_metrics);
  std::unique_ptr<dns::Server> server;
  try {
    server = std::make_unique<dns::Server>(std::move(options), handler);
    control.start();
  } catch (const std::system_error& e) {
    err << "geosteer serve: " << e.what() << "\n";
    notifier.notify("STATUS=failed to start: " + std::string(e.what()));
    return 1;
  }
  Watchdog watchdog(control_io, notifier, server->bound_udp());

  // Signals, reloads and probes run on the control thread, never on a query thread.
  // SIGTERM (a service manager, an orchestrator) drains: /healthz turns 503 and
  // queries are answered for server.drain_time more, so that what routes clients
  // here can move them first. SIGINT (Ctrl-C at a terminal), a second signal, or a
  // drain time of 0 stop at once. Either way, TCP queries in progress are answered.
  boost::asio::signal_set signals(control_io, SIGINT, SIGTERM, SIGHUP);
  boost::asio::steady_timer drain_timer(control_io);
  bool stopping = false;
  auto stop_now = [&] {
    drain_timer.cancel();
    signals.cancel();
    watchdog.stop();
    control.stop();
    server->stop();
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          if (stopping) log::info("reload: ignored while stopping");
          else control.reload();
          signals.async_wait(on_signal);
          return;
        }
        auto drain = control.drain_time();
        if (stopping || signal == SIGINT || drain.count() == 0) {
          log::info("stopping on signal " + std::to_string(signal));
          stop_now();
          return;
        }
        stopping = true;
        log::info("stopping on signal " + std::to_string(signal) + ": /healthz answers 503, " +
                  "queries are answered for " + std::to_string(drain.count()) +
                  " ms more (another signal stops at once)");
        control.begin_stop();
        drain_timer.expires_after(drain);
        drain_timer.async_wait([&](const boost::system::error_code& timer_ec) {
          if (timer_ec) return;
          log::info("drain time over; stopping");
          stop_now();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  // Every listener is bound and the first snapshot published: queries that arrive
  // now wait in the sockets' queues for the query threads starting below.
  watchdog.start();
  notifier.notify("READY=1\nSTATUS=serving " + started);
  std::thread control_thread([&] { control_io.run(); });

  log::info("geosteer " GEOSTEER_VERSION " serving " + started);
  server->run();
  control_io.stop();
  control_thread.join();
  return 0;
}

}  // namespace geosteer::app
