// `geosteer serve`: load, bind, probe mirrors, answer; SIGHUP reloads without
// dropping a query, SIGINT/SIGTERM stop.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <ostream>
#include <thread>

#include "app/commands.h"
#include "app/loader.h"
#include "app/control.h"
#include "app/anycast_node.h"
#include "app/control_socket.h"
#include "app/watchdog.h"
#include "common/asio.h"
#include "common/fd_limit.h"
#include "common/log.h"
#include "common/privileges.h"
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


// `geosteer ctl COMMAND` on the server's side; `stop` is the server's stop sequence.
void handle_control(Control& control, AnycastNode* anycast, const std::vector<std::string>& words,
                    const ControlSocket::Reply& reply, const std::function<void()>& stop) {
  const std::string& command = words[0];
  auto arguments = words.size() - 1;
  auto usage = [&](const std::string& text) { reply(false, "usage: geosteer ctl " + text + "\n"); };
  if (command == "status") {
    if (arguments == 0) return reply(true, control.status_text());
    if (arguments == 1 && words[1] == "--json") return reply(true, control.status_json());
    return usage("status [--json]");
  }
  if (command == "reload") {
    if (arguments != 0) return usage("reload");
    if (control.stopping()) return reply(false, "the server is stopping\n");
    return control.reload([reply](bool ok, const std::vector<std::string>& errors) {
      std::string text;
      for (const auto& error : errors) text += error + "\n";
      reply(ok, ok ? "reloaded\n" : text + "reload failed; the previous configuration still serves\n");
    });
  }
  if (command == "drain" || command == "undrain") {
    if (arguments != 1) return usage(command + " MIRROR");
    auto error = control.set_drained(words[1], command == "drain");
    return error ? reply(false, *error + "\n") : reply(true, command + "ed " + words[1] + "\n");
  }
  if (command == "withdraw" || command == "announce") {
    if (arguments != 0) return usage(command);
    if (anycast == nullptr) return reply(false, "anycast is not configured on this node\n");
    const bool withdraw = command == "withdraw";
    if (auto error = control.set_withdrawn_by_operator(withdraw)) return reply(false, *error + "\n");
    anycast->set_withdrawn_by_operator(withdraw);
    return reply(true, anycast->status() + "\n");
  }
  if (command == "stop") {
    if (arguments != 0) return usage("stop");
    reply(true, "stopping\n");
    return stop();
  }
  reply(false, "unknown command '" + command +
                   "' (commands: status, reload, drain, undrain, withdraw, announce, stop)\n");
}

// Where the control socket goes: the command line wins over the configuration.
struct ControlPaths {
  std::string socket;
  bool socket_required;  // named explicitly: failing to create it fails the start
  std::string state_dir;
};

ControlPaths control_paths(const CommandLine& cl, const zones::ServerConfig& server) {
  ControlPaths paths{server.control_socket, server.control_socket_set, server.state_dir};
  if (cl.control_socket_given) {
    paths.socket = cl.control_socket;
    paths.socket_required = true;
  }
  if (!cl.state_dir.empty()) paths.state_dir = cl.state_dir;
  return paths;
}

// Started as root: hands the control socket and the state directory to `user` (the
// peer check answers root and the server's user; drains are written there), then
// becomes that user. Started
// as `user` already: nothing to do. An error message, or nothing.
std::optional<std::string> become_user(const std::string& user, const ControlPaths& paths) {
  auto ids = lookup_user(user);
  if (!ids) return "server.user: no user '" + user + "'";
  if (::geteuid() != 0) {
    if (::geteuid() == ids->uid) return std::nullopt;
    return "server.user is '" + user + "', but the server was started as uid " +
           std::to_string(::geteuid()) + ", not as root or as that user";
  }
  std::error_code ignored;
  std::filesystem::create_directories(paths.state_dir, ignored);
  std::vector<std::string> owned = {paths.state_dir, paths.state_dir + "/admin_state"};
  // The socket, not its directory: that may be shared (/tmp). A socket the user
  // cannot remove at exit is replaced at the next start, as one nobody answers on.
  if (!paths.socket.empty()) owned.push_back(paths.socket);
  for (const auto& path : owned) {
    if (std::filesystem::exists(path, ignored) && ::chown(path.c_str(), ids->uid, ids->gid) != 0) {
      return "cannot hand " + path + " to user '" + user + "': " + std::strerror(errno);
    }
  }
  try {
    drop_privileges(user);
  } catch (const std::system_error& e) {
    return std::string("cannot run as '") + user + "': " + e.what();
  }
  log::info("running as user " + user + " (uid " + std::to_string(ids->uid) + ", gid " +
            std::to_string(ids->gid) + ")");
  return std::nullopt;
}

}  // namespace

int run_serve(const CommandLine& cl, std::ostream& err) {
  auto loaded = load_or_report(cl.config_path, 1, err);
  if (!loaded) return 1;
  ControlPaths paths = control_paths(cl, loaded->config.server);
  AdminState admin(paths.state_dir);
  try {
    admin.load();
  } catch (const std::exception& e) {
    err << "geosteer serve: " << e.what() << "\n";
    return 1;
  }

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
  Control control(control_io, cl.config_path, std::move(loaded), store, query_metrics, notifier,
                  std::move(admin));
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
  std::optional<AnycastNode> anycast;
  if (const auto& config = store.current()->config.anycast; config.enabled) {
    anycast.emplace(control_io, config, server->bound_udp(), control.withdrawn_by_operator(),
                    [&control](bool announced) { control.anycast_changed(announced); },
                    [&control] { return control.publishing(); });
    control.set_anycast_status([&anycast] { return anycast->status(); });
    control.anycast_changed(false);
  }

  // Signals, reloads and probes run on the control thread, never on a query thread.
  // SIGTERM (a service manager, an orchestrator) and `ctl stop` drain: /healthz
  // turns 503 and queries are answered for server.drain_time more, so that what
  // routes clients here can move them first, and TCP queries in progress are
  // answered. A drain time of 0 skips the drain. SIGINT (Ctrl-C at a terminal) and
  // a second stop end everything at once.
  boost::asio::signal_set signals(control_io, SIGINT, SIGTERM, SIGHUP);
  boost::asio::steady_timer drain_timer(control_io);
  bool stopping = false;  // draining
  bool ended = false;     // the sockets are closing
  std::function<void(const std::string& why, bool at_once)> stop;
  ControlSocket control_socket(control_io, [&](const std::vector<std::string>& words,
                                               const ControlSocket::Reply& reply) {
    handle_control(control, anycast ? &*anycast : nullptr, words, reply, [&] { stop("ctl stop", false); });
  });
  // At once: the sockets close, and TCP queries in progress are answered unless
  // the stop was asked for at once (SIGINT, a second stop).
  auto stop_now = [&](dns::Server::Stop how) {
    ended = true;
    drain_timer.cancel();
    signals.cancel();
    control_socket.close();
    watchdog.stop();
    if (anycast) anycast->stop();
    control.stop();
    server->stop(how);
  };
  stop = [&](const std::string& why, bool at_once) {
    auto drain = control.drain_time();
    if (stopping || at_once || drain.count() == 0) {
      log::info("stopping (" + why + ")");
      return stop_now(stopping || at_once ? dns::Server::Stop::Now : dns::Server::Stop::FinishInFlight);
    }
    stopping = true;
    log::info("stopping (" + why + "): /healthz answers 503, queries are answered for " +
              std::to_string(drain.count()) + " ms more (another stop ends it at once)");
    if (anycast) anycast->withdraw_for_stop();  // routers move clients while this node still answers
    control.begin_stop();
    drain_timer.expires_after(drain);
    drain_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      log::info("drain time over; stopping");
      stop_now(dns::Server::Stop::FinishInFlight);
    });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          if (stopping) log::info("reload: ignored while stopping");
          else control.reload();
        } else {
          stop("signal " + std::to_string(signal), signal == SIGINT);
        }
        if (!ended) signals.async_wait(on_signal);  // a second stop, or reloads, may follow
      };
  signals.async_wait(on_signal);

  if (!paths.socket.empty()) {
    try {
      control_socket.open(paths.socket);
      log::info("control socket " + paths.socket);
    } catch (const std::system_error& e) {
      if (paths.socket_required || e.code().value() == EADDRINUSE) {
        err << "geosteer serve: " << e.what() << "\n";
        return 1;
      }
      log::warning(std::string(e.what()) + "; geosteer ctl will not reach this server " +
                   "(set server.control_socket, or --control-socket)");
    }
  }
  // Everything that needs root is done: become server.user before any thread runs.
  if (const std::string& user = store.current()->config.server.user; !user.empty()) {
    if (auto error = become_user(user, paths)) {
      err << "geosteer serve: " << *error << "\n";
      return 1;
    }
  }
  // Every listener is bound and the first snapshot published: queries that arrive
  // now wait in the sockets' queues for the query threads starting below.
  watchdog.start();
  if (anycast) anycast->start();
  notifier.notify("READY=1\nSTATUS=serving " + started);
  std::thread control_thread([&] { control_io.run(); });

  log::info("geosteer " GEOSTEER_VERSION " serving " + started);
  server->run();
  control_io.stop();
  control_thread.join();
  return 0;
}

}  // namespace geosteer::app
