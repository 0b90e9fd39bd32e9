#include "app/commands.h"

#include <ostream>
#include <string_view>

#include "app/explanation.h"
#include "app/loader.h"
#include "common/dname.h"
#include "common/log.h"

namespace geosteer::app {
namespace {

bool known_command(const std::string& c) {
  return c == "serve" || c == "check" || c == "locate" || c == "probe" || c == "ctl" ||
         c == "version" || c == "help";
}


// The address (or ECS-style prefix) the operator asked about, as steering sees it.
std::optional<steering::Client> client_from_operand(const std::string& text) {
  auto prefix = IpPrefix::parse(text);
  if (!prefix) return std::nullopt;
  bool is_prefix = text.find('/') != std::string::npos;
  return steering::Client{prefix->address.masked(prefix->length), prefix->length, is_prefix};
}

// Explanation lines to a stream, one per line, indented.
class StreamLines : public LineSink {
 public:
  StreamLines(std::ostream& out, std::string_view indent) : out_(out), indent_(indent) {}
  void line(std::string_view text) override { out_ << indent_ << text << "\n"; }

 private:
  std::ostream& out_;
  std::string_view indent_;
};

// The decision as the `_geosteer.<service>` TXT gives it, then the addresses each
// chosen mirror is answered with.
void print_decision(const steering::Engine& engine, const steering::Decision& d, Family family,
                    const steering::GeoResult& client, std::ostream& out) {
  StreamLines lines(out, "  ");
  explain_decision(engine, d, family, client, lines);
  int rank = 1;
  for (uint16_t index : d.chosen()) {
    const auto& mirror = engine.mirrors()[index];
    out << "      " << rank++ << ". " << mirror.id;
    for (const auto& a : engine.answer_addresses(index, family)) out << " " << a.to_string();
    out << "\n";
  }
}

}  // namespace

void print_usage(std::ostream& out) {
  out << "usage: geosteer COMMAND [options]\n"
         "\n"
         "commands:\n"
         "  serve  -c FILE                      serve DNS as configured (SIGHUP reloads)\n"
         "  check  -c FILE                      validate the configuration and exit\n"
         "  locate -c FILE ADDRESS[/PREFIX] [--service NAME]\n"
         "                                      show where ADDRESS is and the mirrors it gets\n"
         "  probe  -c FILE [--mirror ID]        probe every mirror (or one) now and print the results;\n"
         "                                      exit status 0 when every one is healthy\n"
         "  ctl [-s SOCKET] COMMAND [ARGS]      talk to a running server: status, reload, drain,\n"
         "                                      undrain, withdraw, announce, stop\n"
         "  version, --version                  print the version\n"
         "\n"
         "options:\n"
         "  -c, --config FILE    configuration file (YAML)\n"
         "  --log-level LEVEL    debug, info, warning or error (default info)\n"
         "\n"
         "geosteer COMMAND --help prints a command's own usage.\n";
}

void print_command_usage(const std::string& command, std::ostream& out) {
  static constexpr std::string_view kCommonOptions =
      "  --log-level LEVEL    debug, info, warning or error (default info)\n"
      "  -h, --help           print this text\n";
  if (command == "serve") {
    out << "usage: geosteer serve -c FILE [--log-level LEVEL]\n"
           "\n"
           "Serves DNS on every server.listen address of FILE, UDP and TCP, and the status\n"
           "page and metrics on metrics.listen, probing mirrors when FILE has a healthcheck\n"
           "section. Fails at start when another process listens on one of the addresses.\n"
           "SIGHUP reloads FILE and the GeoIP databases without dropping a query (a broken\n"
           "configuration is reported and the previous one keeps serving); SIGTERM and\n"
           "SIGINT stop.\n"
           "\n"
           "options:\n"
           "  -c, --config FILE        the configuration (YAML)\n"
           "  --control-socket PATH    instead of server.control_socket (\"\" for none)\n"
           "  --state-dir DIR          instead of server.state_dir\n"
        << kCommonOptions;
  } else if (command == "check") {
    out << "usage: geosteer check -c FILE [--log-level LEVEL]\n"
           "\n"
           "Validates everything serve would load: YAML, names, addresses, records, zone\n"
           "files, GeoIP files, mirror locations. Prints each error as\n"
           "file:line:column: error: ... (hint). Exit status 0 when FILE is good, 1 if not.\n"
           "\n"
           "options:\n"
           "  -c, --config FILE    the configuration (YAML)\n"
        << kCommonOptions;
  } else if (command == "locate") {
    out << "usage: geosteer locate -c FILE ADDRESS[/PREFIX] [--service NAME] [--log-level LEVEL]\n"
           "\n"
           "Prints where GeoIP puts ADDRESS, the network of the steering map that decides\n"
           "it, and for each service (or NAME) the mirrors an A and an AAAA query get, with\n"
           "distances, health and the reason. A PREFIX stands for an ECS option, a bare\n"
           "address for a resolver. Nothing is probed.\n"
           "\n"
           "options:\n"
           "  -c, --config FILE    the configuration (YAML)\n"
           "  --service NAME       one service only\n"
        << kCommonOptions;
  } else if (command == "probe") {
    out << "usage: geosteer probe -c FILE [--mirror ID] [--log-level LEVEL]\n"
           "\n"
           "Probes every address of every mirror (or of ID) once, now, with the settings of\n"
           "FILE's healthcheck sections, and prints mirror, address, result, HTTP status,\n"
           "latency, lag and reason. Exit status 0 when every probe passed, 1 if not.\n"
           "\n"
           "options:\n"
           "  -c, --config FILE    the configuration (YAML)\n"
           "  --mirror ID          one mirror only\n"
        << kCommonOptions;
  } else if (command == "ctl") {
    out << "usage: geosteer ctl [-s SOCKET] COMMAND [ARGS]\n"
           "\n"
           "Talks to a running geosteer serve through its control socket (server.control_socket,\n"
           "default /run/geosteer/control.sock); root and the server's own user only.\n"
           "\n"
           "commands:\n"
           "  status [--json]   generation, configuration, uptime, and per service and mirror\n"
           "                    the state, the tier answered from and the reason\n"
           "  reload            as SIGHUP, but waits: prints the configuration errors\n"
           "                    (file:line:column) and exits 1 when the reload failed\n"
           "  drain MIRROR      takes the mirror out of every answer now, as drain: true\n"
           "                    would; kept in server.state_dir across reloads and restarts\n"
           "  undrain MIRROR    puts it back\n"
           "  withdraw          takes this node out of anycast (needs an anycast: block)\n"
           "  announce          puts it back\n"
           "  stop              stops as SIGTERM does: /healthz 503, drain, exit\n"
           "\n"
           "options:\n"
           "  -s, --socket PATH    the control socket\n"
           "\n"
           "Exit status: 0 done, 1 the server refused or failed the command, 2 usage or no server.\n";
  } else if (command == "version") {
    out << "usage: geosteer version   (or geosteer --version)\n"
           "\n"
           "Prints the version.\n";
  } else {
    print_usage(out);
  }
}

bool parse_command_line(int argc, char** argv, CommandLine& out, std::ostream& err) {
  if (argc < 2) {
    err << "geosteer: missing command\n";
    return false;
  }
  out.command = argv[1];
  if (out.command == "-h" || out.command == "--help") out.command = "help";
  if (out.command == "-V" || out.command == "--version") out.command = "version";
  if (out.command == "help") {
    // `geosteer help serve` is `geosteer serve --help`.
    if (argc > 2 && known_command(argv[2])) {
      out.command = argv[2];
      out.help = true;
    }
    return true;
  }
  if (!known_command(out.command)) {
    err << "geosteer: unknown command '" << out.command << "'\n";
    return false;
  }
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) {
        err << "geosteer: " << arg << " needs a value\n";
        return false;
      }
      into = argv[++i];
      return true;
    };
    if (out.command == "ctl" && !out.operands.empty()) {
      out.operands.push_back(arg);  // the control command's own words, "--json" included
    } else if (arg == "-c" || arg == "--config") {
      if (!value(out.config_path)) return false;
    } else if (out.command == "ctl" && (arg == "-s" || arg == "--socket")) {
      if (!value(out.control_socket)) return false;
    } else if (out.command == "serve" && arg == "--control-socket") {
      if (!value(out.control_socket)) return false;
      out.control_socket_given = true;
    } else if (out.command == "serve" && arg == "--state-dir") {
      if (!value(out.state_dir)) return false;
    } else if (arg == "--service") {
      if (!value(out.service)) return false;
    } else if (arg == "--mirror") {
      if (!value(out.mirror)) return false;
    } else if (arg == "--log-level") {
      if (!value(out.log_level)) return false;
    } else if (arg == "-h" || arg == "--help") {
      out.help = true;
      return true;  // nothing else is checked or run
    } else if (!arg.empty() && arg[0] == '-') {
      err << "geosteer: unknown option '" << arg << "'\n";
      return false;
    } else {
      out.operands.push_back(arg);
    }
  }
  bool needs_config = out.command == "serve" || out.command == "check" ||
                      out.command == "locate" || out.command == "probe";
  if (needs_config && out.config_path.empty()) {
    err << "geosteer " << out.command << ": -c FILE is required\n";
    return false;
  }
  if (out.command == "locate" && out.operands.size() != 1) {
    err << "geosteer locate: give exactly one ADDRESS\n";
    return false;
  }
  if (out.command == "ctl" && out.operands.empty()) {
    err << "geosteer ctl: give a COMMAND (status, reload, drain, undrain, withdraw, announce, stop)\n";
    return false;
  }
  if (out.command != "locate" && out.command != "ctl" && !out.operands.empty()) {
    err << "geosteer " << out.command << ": unexpected argument '" << out.operands[0] << "'\n";
    return false;
  }
  static const char* levels[] = {"debug", "info", "warning", "error"};
  for (int l = 0; l < 4; ++l) {
    if (out.log_level == levels[l]) {
      log::set_level(static_cast<log::Level>(l));
      return true;
    }
  }
  err << "geosteer: unknown log level '" << out.log_level << "'\n";
  return false;
}

std::shared_ptr<const LoadedConfig> load_or_report(const std::string& path, uint64_t generation,
                                                   std::ostream& err) {
  try {
    return load_config(path, generation);
  } catch (const zones::ConfigErrors& e) {
    for (const auto& error : e.errors()) err << error.str() << "\n";
    err << e.errors().size() << (e.errors().size() == 1 ? " error" : " errors") << "\n";
    return nullptr;
  }
}

int run_check(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  auto loaded = load_or_report(cl.config_path, 0, err);
  if (!loaded) return 1;
  size_t services = zones::service_order(loaded->config).size();
  out << cl.config_path << ": OK (" << loaded->config.zones.size() << " zones, " << services
      << " services, " << loaded->config.mirrors.size() << " mirrors)\n";
  return 0;
}

int run_locate(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  auto client = client_from_operand(cl.operands[0]);
  if (!client) {
    err << "geosteer locate: '" << cl.operands[0] << "' is not an IP address or prefix\n";
    return 2;
  }
  auto loaded = load_or_report(cl.config_path, 0, err);
  if (!loaded) return 1;
  auto snapshot = build_snapshot(loaded, nullptr);
  const steering::Engine& engine = snapshot->engine;
  steering::GeoResult geo = engine.locate(client->address);
  // The same first lines as the TXT answer at `_geosteer.<service>`.
  StreamLines lines(out, "");
  explain_client(*client, lines);
  explain_location(geo, lines);
  out << "database "
      << (geo.database >= 0 ? engine.geoip()->databases()[geo.database].path : std::string("none"))
      << "\n";

  std::string wanted = cl.service.empty() ? "" : dname::to_text(dname::from_text(cl.service).value_or(""));
  bool shown = false;
  for (size_t i = 0; i < engine.services().size(); ++i) {
    const auto& service = engine.services()[i];
    bool match = wanted.empty() || service.name == wanted ||
                 service.name.rfind(cl.service + ".", 0) == 0;
    if (!match) continue;
    shown = true;
    out << "\nservice " << service.name << "  (the same as TXT at _geosteer." << service.name
        << ")\n";
    for (Family family : {Family::V4, Family::V6}) {
      print_decision(engine, engine.choose(i, family, *client), family, geo, out);
    }
  }
  if (!shown) {
    err << "geosteer locate: no service named '" << cl.service << "'\n";
    return 1;
  }
  return 0;
}

}  // namespace geosteer::app
