// `geosteer serve`: load, bind, answer; SIGHUP reloads without dropping a query,
// SIGINT/SIGTERM stop.
#include "common/asio.h"
#include <ostream>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/loader.h"
#include "common/log.h"
#include "dns/server.h"

namespace geosteer::app {
namespace {

// Every query thread keeps its own reader, so the shared snapshot pointer is copied
// once per reload and thread, not once per query.
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

void reload(const std::string& path, SnapshotStore& store) {
  auto previous = store.current();
  try {
    auto next = load_snapshot(path, previous->generation + 1);
    if (listen_list(next->config) != listen_list(previous->config)) {
      log::warning("reload: listen addresses changed; they take effect after a restart");
    }
    store.publish(next);
    log::info("reloaded " + path + ", generation " + std::to_string(next->generation));
  } catch (const zones::ConfigErrors& e) {
    for (const auto& error : e.errors()) log::error("reload: " + error.str());
    log::error("reload failed; still serving generation " + std::to_string(previous->generation));
  }
}

}  // namespace

int run_serve(const CommandLine& cl, std::ostream& err) {
  SnapshotStore store;
  try {
    store.publish(load_snapshot(cl.config_path, 1));
  } catch (const zones::ConfigErrors& e) {
    for (const auto& error : e.errors()) err << error.str() << "\n";
    return 1;
  }
  const zones::Config& config = store.current()->config;

  SnapshotHandler handler(store);
  std::unique_ptr<dns::Server> server;
  try {
    server = std::make_unique<dns::Server>(server_options(config), handler);
  } catch (const std::system_error& e) {
    err << "geosteer serve: " << e.what() << "\n";
    return 1;
  }

  // Signals are handled on their own thread so a reload (which reads files and
  // builds a snapshot) never runs on a query thread.
  boost::asio::io_context control;
  boost::asio::signal_set signals(control, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          reload(cl.config_path, store);
          signals.async_wait(on_signal);
          return;
        }
        log::info("stopping on signal " + std::to_string(signal));
        server->stop();
      };
  signals.async_wait(on_signal);
  std::thread control_thread([&] { control.run(); });

  log::info("geosteer " GEOSTEER_VERSION " serving " + std::to_string(config.zones.size()) +
            " zone(s) on " + listen_list(config) + " (udp+tcp), identity " + config.server.identity);
  server->run();
  control.stop();
  control_thread.join();
  return 0;
}

}  // namespace geosteer::app
