// healthcheck: blocks (global, per service, per mirror) and their resolution, key by
// key, into each mirror's ProbeSettings.
#include "zones/config_parser.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace geosteer::zones::parsing {

// --- health checks -------------------------------------------------------------

// `checker` is the place for the checker-wide settings: given for the global block only.
HealthcheckBlock ConfigParser::parse_healthcheck(const YAML::Node& node,
                                                 healthcheck::CheckerSettings* checker) {
  any_healthcheck_ = true;
  HealthcheckBlock block;
  auto f = fields(node, "'healthcheck'",
                  {"interval", "jitter", "timeout", "rise", "fall", "concurrency", "liveness",
                   "freshness", "max_latency", "tls_verify", "ca_file", "check_host", "initial",
                   "max_redirects"});
  if (!f) return block;
  if (const Entry* e = f->find("interval")) block.interval = duration(e->value, "'interval'");
  if (const Entry* e = f->find("jitter")) block.jitter = real(e->value, "'jitter'", 0, 0.5);
  if (const Entry* e = f->find("timeout")) block.timeout = duration(e->value, "'timeout'");
  set_integer(*f, "rise", 1, 100, block.rise);
  set_integer(*f, "fall", 1, 100, block.fall);
  if (checker != nullptr) {
    set_integer(*f, "concurrency", 1, 1024, checker->concurrency);
  } else if (const Entry* e = f->find("concurrency")) {
    error(e->key_node, "'concurrency' applies to the whole health checker",
          "set it in the top-level healthcheck:");
  }
  if (const Entry* e = f->find("liveness")) parse_liveness(e->value, block);
  if (const Entry* e = f->find("freshness")) parse_freshness(e->value, block);
  if (const Entry* e = f->find("max_latency")) {
    block.max_latency = duration(e->value, "'max_latency'");
  }
  if (const Entry* e = f->find("tls_verify")) block.tls_verify = boolean(e->value, "'tls_verify'");
  if (const Entry* e = f->find("ca_file")) parse_ca_file(e->value, block);
  if (const Entry* e = f->find("check_host")) {
    if (auto index = choice(e->value, "'check_host'", {"mirror", "service"})) {
      block.check_host = *index == 0 ? CheckHost::Mirror : CheckHost::Service;
    }
  }
  if (const Entry* e = f->find("initial")) {
    if (auto index = choice(e->value, "'initial'", {"up", "down"})) block.initial_up = *index == 0;
  }
  set_integer(*f, "max_redirects", 0, 10, block.max_redirects);
  return block;
}

void ConfigParser::parse_liveness(const YAML::Node& node, HealthcheckBlock& block) {
  auto f = fields(node, "'liveness'", {"path", "expect_status", "expect_body"});
  if (!f) return;
  // An empty path probes the mirror's URL itself.
  if (const Entry* e = f->find("path")) {
    block.liveness_path = relative_path(e->value, "'path'", true);
  }
  set_integer(*f, "expect_status", 100, 599, block.expect_status);
  if (const Entry* e = f->find("expect_body")) {
    block.expect_body = scalar(e->value, "'expect_body'");
  }
}

void ConfigParser::parse_freshness(const YAML::Node& node, HealthcheckBlock& block) {
  auto f = fields(node, "'freshness'",
                  {"method", "path", "upstream", "max_lag", "canaries", "canary_list"});
  if (!f) return;
  if (const Entry* e = f->find("method")) {
    constexpr std::array<FreshnessMethod, 4> kMethods = {
        FreshnessMethod::None, FreshnessMethod::Trace, FreshnessMethod::Upstream,
        FreshnessMethod::Canary};
    if (auto index = choice(e->value, "'method'", {"none", "trace", "upstream", "canary"})) {
      block.method = kMethods[*index];
      block.method_pos = pos(e->value);
    }
  }
  // Empty only matters to the methods that read the path; resolution reports it for them.
  if (const Entry* e = f->find("path")) {
    block.freshness_path = relative_path(e->value, "'path'", true);
  }
  if (const Entry* e = f->find("upstream")) {
    block.upstream = http_url(e->value, "'upstream'", "upstream URL");
  }
  if (const Entry* e = f->find("max_lag")) {
    auto lag = duration(e->value, "'max_lag'");
    if (lag && lag->count() % 1000 != 0) {
      error(e->value, "'max_lag' must be whole seconds, got " + quoted(e->value.Scalar()));
    } else if (lag) {
      block.max_lag = std::chrono::duration_cast<Seconds>(*lag);
    }
  }
  if (const Entry* e = f->find("canaries")) parse_canaries(e->value, block);
  if (const Entry* e = f->find("canary_list")) {
    block.canary_list = relative_path(e->value, "'canary_list'", false);
  }
}

void ConfigParser::parse_canaries(const YAML::Node& node, HealthcheckBlock& block) {
  if (!expect(node, YAML::NodeType::Sequence, "'canaries'")) return;
  std::vector<std::string> canaries;
  for (const auto& item : node) {
    if (auto path = relative_path(item, "a canary path", false)) canaries.push_back(*path);
  }
  block.canaries = std::move(canaries);
}

// Why the file cannot be read, or nullopt when it can.
static std::optional<std::string> unreadable(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return std::strerror(errno);
  // Opening a directory succeeds; reading it does not.
  errno = 0;
  std::fgetc(file);
  int read_error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_error != 0) return std::strerror(read_error);
  return std::nullopt;
}

void ConfigParser::parse_ca_file(const YAML::Node& node, HealthcheckBlock& block) {
  auto path = scalar(node, "'ca_file'");
  if (!path) return;
  if (auto why = unreadable(*path)) {
    error(node, "cannot read 'ca_file' " + quoted(*path) + ": " + *why,
          "a PEM file of CA certificates; relative paths are relative to the working directory");
    return;
  }
  block.ca_file = *path;
}

template <typename T>
static void take(const std::optional<T>& from, T& to) {
  if (from) to = *from;
}

// Lays `block` over the settings resolved so far: the keys it sets win.
static void apply(const HealthcheckBlock& block, ProbeSettings& probe, SourcePos& method_pos) {
  take(block.interval, probe.interval);
  take(block.jitter, probe.jitter);
  take(block.timeout, probe.timeout);
  take(block.rise, probe.rise);
  take(block.fall, probe.fall);
  take(block.liveness_path, probe.liveness.path);
  take(block.expect_status, probe.liveness.expect_status);
  take(block.expect_body, probe.liveness.expect_body);
  take(block.method, probe.freshness.method);
  if (block.method) method_pos = block.method_pos;
  take(block.freshness_path, probe.freshness.path);
  take(block.upstream, probe.freshness.upstream);
  take(block.max_lag, probe.freshness.max_lag);
  take(block.canaries, probe.freshness.canaries);
  take(block.canary_list, probe.freshness.canary_list);
  if (block.max_latency) probe.max_latency = block.max_latency;
  take(block.tls_verify, probe.tls_verify);
  take(block.ca_file, probe.ca_file);
  take(block.check_host, probe.check_host);
  take(block.initial_up, probe.initial_up);
  take(block.max_redirects, probe.max_redirects);
}

void ConfigParser::resolve_probes(std::vector<MirrorConfig>& mirrors) {
  for (size_t i = 0; i < mirrors.size() && i < mirror_health_.size(); ++i) {
    MirrorConfig& mirror = mirrors[i];
    SourcePos method_pos;
    apply(global_health_, mirror.probe, method_pos);
    auto lists_mirror = [&](const ServiceHealthcheck& service) {
      return std::find(service.mirrors.begin(), service.mirrors.end(), mirror.id) !=
             service.mirrors.end();
    };
    auto first = std::find_if(service_health_.begin(), service_health_.end(), lists_mirror);
    if (first != service_health_.end()) {
      apply(first->block, mirror.probe, method_pos);
      mirror.service_host = first->host;
    }
    apply(mirror_health_[i], mirror.probe, method_pos);
    check_freshness(mirror.probe, method_pos);
  }
}

// What a freshness method needs can come from any block, so it is checked once the
// settings are resolved, and reported where the method was chosen.
void ConfigParser::check_freshness(const ProbeSettings& probe, const SourcePos& method_pos) {
  const auto& freshness = probe.freshness;
  const std::string method = quoted(healthcheck::to_string(freshness.method));
  auto report = [&](std::string message, std::string hint) {
    ConfigError e{method_pos, std::move(message), std::move(hint)};
    // Every mirror that inherits a method sees the same omission: report it once.
    auto same = [&](const ConfigError& known) {
      return known.pos.str() == e.pos.str() && known.message == e.message;
    };
    if (std::none_of(errors_.begin(), errors_.end(), same)) errors_.push_back(std::move(e));
  };
  bool compares_upstream = freshness.method == FreshnessMethod::Upstream ||
                           freshness.method == FreshnessMethod::Canary;
  if (compares_upstream && freshness.upstream.empty()) {
    report("freshness method " + method + " needs an 'upstream' URL",
           "e.g. upstream: \"https://ci.guix.gnu.org/\"");
  }
  if (freshness.method == FreshnessMethod::Canary && freshness.canaries.empty() &&
      freshness.canary_list.empty()) {
    report("freshness method 'canary' needs 'canaries' or 'canary_list'",
           "narinfo paths every mirror in sync serves, or a file on the upstream listing them");
  }
  bool reads_trace = freshness.method == FreshnessMethod::Trace ||
                     freshness.method == FreshnessMethod::Upstream;
  if (reads_trace && freshness.path.empty()) {
    report("freshness method " + method + " needs a 'path'", "e.g. path: trace/last-sync");
  }
}


}  // namespace geosteer::zones::parsing
