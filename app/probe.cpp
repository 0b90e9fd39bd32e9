// `geosteer probe`: one probe round now, printed as a table.
#include <cstdio>
#include <iomanip>
#include <ostream>

#include "app/commands.h"
#include "app/loader.h"
#include "common/asio.h"
#include "healthcheck/checker.h"

namespace geosteer::app {
namespace {

std::string milliseconds(const std::optional<double>& ms) {
  if (!ms) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fms", *ms);
  return buf;
}

std::string lag(const std::optional<int64_t>& seconds) {
  if (!seconds) return "-";
  int64_t s = *seconds;
  char buf[32];
  if (s < 120) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(s / 60));
  else std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(s / 3600));
  return buf;
}

void print_table(const std::vector<healthcheck::Target>& targets,
                 const std::vector<healthcheck::ProbeResult>& results, std::ostream& out) {
  out << std::left << std::setw(16) << "MIRROR" << std::setw(26) << "ADDRESS" << std::setw(8)
      << "RESULT" << std::setw(6) << "HTTP" << std::setw(10) << "LATENCY" << std::setw(8) << "LAG"
      << "REASON\n";
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& r = results[i];
    out << std::left << std::setw(16) << targets[i].mirror_id << std::setw(26)
        << targets[i].address.to_string() << std::setw(8)
        << healthcheck::to_string(r.outcome) << std::setw(6)
        << (r.http_status ? std::to_string(r.http_status) : "-") << std::setw(10)
        << milliseconds(r.first_byte_ms) << std::setw(8) << lag(r.lag_seconds) << r.reason;
    for (const auto& url : r.redirects) out << " (redirected to " << url << ")";
    out << "\n";
  }
}

}  // namespace

int run_probe(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  auto loaded = load_or_report(cl.config_path, 0, err);
  if (!loaded) return 1;
  std::vector<healthcheck::Target> targets = probe_targets(loaded->config);
  if (!cl.mirror.empty()) {
    std::erase_if(targets, [&](const auto& t) { return t.mirror_id != cl.mirror; });
    if (targets.empty()) {
      err << "geosteer probe: no mirror with id '" << cl.mirror << "'\n";
      return 1;
    }
  }
  boost::asio::io_context io;
  std::vector<healthcheck::ProbeResult> results;
  healthcheck::probe_all_once(io, loaded->config.checker, targets,
                              [&](std::vector<healthcheck::ProbeResult> r) { results = std::move(r); });
  io.run();
  print_table(targets, results, out);
  bool all_ok = std::all_of(results.begin(), results.end(), [](const auto& r) {
    return r.outcome == healthcheck::Outcome::Ok;
  });
  return all_ok ? 0 : 1;
}

}  // namespace geosteer::app
