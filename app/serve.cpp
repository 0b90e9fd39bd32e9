// `geosteer serve`: load, bind, probe mirrors, answer; SIGHUP reloads without
// dropping a query, SIGINT/SIGTERM stop.
#include <ostream>
#include <thread>

#include "app/commands.h"
#include "app/loader.h"
#include "common/asio.h"
#include "common/log.h"
#include "dns/server.h"
#include "healthcheck/checker.h"

namespace geosteer::app {
namespace {

// Every query thread keeps its own reader, so the shared snapshot pointer is copied
// once per publication and thread, not once per query.
class SnapshotHandler : public dns::QueryHandler {
 public:
  explicit SnapshotHandler(const SnapshotStore& store) : store_(store) {}

  size_t handle(std::span<const uint8_t> query, const dns::RequestInfo& info,
                std::span<uint8_t> out) override {
    thread_local SnapshotReader reader(store_);
    return reader.get().responder.respond(query, info, out);
  }

 private:
  const SnapshotStore& store_;
};

dns::ServerOptions server_options(const zones::Config& config) {
  dns::ServerOptions options;
  for (const auto& listen : config.server.listen) options.listen.push_back({listen.address, listen.port});
  options.threads = config.server.threads;
  options.tcp_idle_timeout = config.server.tcp_idle_timeout;
  options.tcp_max_connections = config.server.tcp_max_connections;
  return options;
}

std::string listen_list(const zones::Config& config) {
  std::string out;
  for (const auto& listen : config.server.listen) out += (out.empty() ? "" : " ") + listen.str();
  return out;
}

// The control side of the server: reloads and health changes, both on one thread
// (the control io_context), each publishing a complete new snapshot.
class Control {
 public:
  Control(boost::asio::io_context& io, std::string path, std::shared_ptr<const LoadedConfig> loaded,
          SnapshotStore& store)
      : path_(std::move(path)),
        loaded_(std::move(loaded)),
        store_(store),
        checker_(io, loaded_->config.checker, probe_targets(loaded_->config),
                 [this](std::shared_ptr<const healthcheck::HealthState> health) {
                   store_.publish(build_snapshot(loaded_, std::move(health)));
                 }) {
    store_.publish(build_snapshot(loaded_, checker_.state()));
  }

  void start_probes() { checker_.start(); }
  void stop_probes() { checker_.stop(); }

  void reload() {
    try {
      auto next = load_config(path_, loaded_->generation + 1);
      if (listen_list(next->config) != listen_list(loaded_->config)) {
        log::warning("reload: listen addresses changed; they take effect after a restart");
      }
      loaded_ = next;
      // Publishes the snapshot of the new configuration with the carried-over health.
      checker_.reconfigure(loaded_->config.checker, probe_targets(loaded_->config));
      log::info("reloaded " + path_ + ", generation " + std::to_string(loaded_->generation));
    } catch (const zones::ConfigErrors& e) {
      for (const auto& error : e.errors()) log::error("reload: " + error.str());
      log::error("reload failed; still serving generation " + std::to_string(loaded_->generation));
    }
  }

 private:
  std::string path_;
  std::shared_ptr<const LoadedConfig> loaded_;
  SnapshotStore& store_;
  healthcheck::Checker checker_;
};

}  // namespace

int run_serve(const CommandLine& cl, std::ostream& err) {
  std::shared_ptr<const LoadedConfig> loaded;
  try {
    loaded = load_config(cl.config_path, 1);
  } catch (const zones::ConfigErrors& e) {
    for (const auto& error : e.errors()) err << error.str() << "\n";
    return 1;
  }

  boost::asio::io_context control_io;
  SnapshotStore store;
  Control control(control_io, cl.config_path, loaded, store);
  SnapshotHandler handler(store);
  std::unique_ptr<dns::Server> server;
  try {
    server = std::make_unique<dns::Server>(server_options(loaded->config), handler);
  } catch (const std::system_error& e) {
    err << "geosteer serve: " << e.what() << "\n";
    return 1;
  }

  // Signals, reloads and probes run on the control thread, never on a query thread.
  boost::asio::signal_set signals(control_io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          control.reload();
          signals.async_wait(on_signal);
          return;
        }
        log::info("stopping on signal " + std::to_string(signal));
        control.stop_probes();
        server->stop();
      };
  signals.async_wait(on_signal);
  control.start_probes();
  std::thread control_thread([&] { control_io.run(); });

  log::info("geosteer " GEOSTEER_VERSION " serving " + std::to_string(loaded->config.zones.size()) +
            " zone(s) on " + listen_list(loaded->config) + " (udp+tcp), identity " +
            loaded->config.server.identity);
  server->run();
  control_io.stop();
  control_thread.join();
  return 0;
}

}  // namespace geosteer::app
