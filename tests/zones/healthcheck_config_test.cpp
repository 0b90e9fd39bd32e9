// The `healthcheck:` blocks: parsing, validation with positions, and resolution per
// mirror (defaults, then global, then the services listing it, which must agree,
// then its own).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/zones/config_helpers.h"
#include "zones/config.h"

namespace geosteer::zones {
namespace {

using healthcheck::CheckHost;
using healthcheck::FreshnessMethod;
using healthcheck::ProbeSettings;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// A readable file that stands in for a CA bundle: only its readability is checked.
const std::string kReadableFile = GEOSTEER_SOURCE_DIR "/README.md";

// One service (line 7) listing both mirrors; each healthcheck block is a flow mapping
// on its own line, so that its contents start at a fixed column:
//   line 9,  column 23: the service's block
//   line 14, column 19: berlin's block
//   line 16, column 15: the global block
std::string config(const std::string& service_block, const std::string& mirror_block = "",
                   const std::string& global_block = "") {
  return "geoip: {databases: [city.mmdb]}\n"
         "zones:\n"
         "  - origin: example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "    services:\n"
         "      - name: www\n"
         "        mirrors: [berlin, tokyo]\n"
         "        healthcheck: {" + service_block + "}\n"
         "mirrors:\n"
         "  - id: berlin\n"
         "    url: \"https://berlin.example/\"\n"
         "    ipv4: [127.0.2.1]\n"
         "    healthcheck: {" + mirror_block + "}\n"
         "  - {id: tokyo, url: \"https://tokyo.example/\", ipv6: [\"::1\"]}\n"
         "healthcheck: {" + global_block + "}\n";
}

using testing::only_error;

const MirrorConfig& mirror(const Config& c, const char* id) {
  const MirrorConfig* m = c.find_mirror(id);
  if (m == nullptr) throw std::runtime_error(std::string("no mirror ") + id);
  return *m;
}

// The issue's example, with a CA file that exists on the test machine.
std::string issue_example() {
  return "geoip: {databases: [city.mmdb]}\n"
         "zones:\n"
         "  - origin: guix.example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "    services: [{name: substitutes, mirrors: [berlin, us-west]}]\n"
         "healthcheck:\n"
         "  interval: 30s\n"
         "  jitter: 0.1\n"
         "  timeout: 5s\n"
         "  rise: 2\n"
         "  fall: 3\n"
         "  concurrency: 16\n"
         "  liveness: {path: nix-cache-info, expect_status: 200, expect_body: \"StoreDir:\"}\n"
         "  freshness: {method: upstream, path: trace/last-sync, upstream: "
         "\"https://ci.guix.gnu.org/\", max_lag: 6h,\n"
         "              canaries: [abc.narinfo], canary_list: canaries.txt}\n"
         "  max_latency: 800ms\n"
         "  tls_verify: true\n"
         "  ca_file: " + kReadableFile + "\n"
         "  check_host: mirror\n"
         "  initial: up\n"
         "  max_redirects: 3\n"
         "mirrors:\n"
         "  - {id: berlin, url: \"https://ci.guix.gnu.org/\", ipv4: [141.80.181.40]}\n"
         "  - {id: us-west, url: \"https://us-west.mirror.example.net/guix/\", "
         "ipv4: [127.51.100.10], healthcheck: {interval: 10s, max_latency: 800ms}}\n";
}

TEST(HealthcheckConfig, IssueExampleLoadsWithItsValues) {
  Config c = parse_config_text(issue_example(), "test.yaml");
  EXPECT_EQ(c.checker.concurrency, 16u);
  for (const char* id : {"berlin", "us-west"}) {
    SCOPED_TRACE(id);
    const ProbeSettings& p = mirror(c, id).probe;
    EXPECT_DOUBLE_EQ(p.jitter, 0.1);
    EXPECT_EQ(p.timeout, seconds(5));
    EXPECT_EQ(p.rise, 2u);
    EXPECT_EQ(p.fall, 3u);
    EXPECT_EQ(p.liveness.path, "nix-cache-info");
    EXPECT_EQ(p.liveness.expect_status, 200u);
    EXPECT_EQ(p.liveness.expect_body, "StoreDir:");
    EXPECT_EQ(p.freshness.method, FreshnessMethod::Upstream);
    EXPECT_EQ(p.freshness.path, "trace/last-sync");
    EXPECT_EQ(p.freshness.upstream, "https://ci.guix.gnu.org/");
    EXPECT_EQ(p.freshness.max_lag, hours(6));
    EXPECT_EQ(p.freshness.canaries, std::vector<std::string>{"abc.narinfo"});
    EXPECT_EQ(p.freshness.canary_list, "canaries.txt");
    EXPECT_EQ(p.max_latency, milliseconds(800));
    EXPECT_TRUE(p.tls_verify);
    EXPECT_EQ(p.ca_file, kReadableFile);
    EXPECT_EQ(p.check_host, CheckHost::Mirror);
    EXPECT_TRUE(p.initial_up);
    EXPECT_EQ(p.max_redirects, 3u);
    EXPECT_EQ(mirror(c, id).service_host, "substitutes.guix.example.org");
  }
  EXPECT_EQ(mirror(c, "berlin").probe.interval, seconds(30));
  EXPECT_EQ(mirror(c, "us-west").probe.interval, seconds(10));
}

TEST(HealthcheckConfig, WithoutBlocksEveryMirrorGetsTheDefaults) {
  Config c = parse_config_text(config(""), "test.yaml");
  const ProbeSettings defaults;
  for (const auto& m : c.mirrors) {
    SCOPED_TRACE(m.id);
    EXPECT_EQ(m.probe.interval, defaults.interval);
    EXPECT_EQ(m.probe.timeout, defaults.timeout);
    EXPECT_EQ(m.probe.rise, defaults.rise);
    EXPECT_EQ(m.probe.fall, defaults.fall);
    EXPECT_EQ(m.probe.liveness.path, defaults.liveness.path);
    EXPECT_EQ(m.probe.freshness.method, FreshnessMethod::None);
    EXPECT_FALSE(m.probe.max_latency.has_value());
    EXPECT_TRUE(m.probe.initial_up);
    EXPECT_EQ(m.service_host, "www.example.org");
  }
  EXPECT_EQ(c.checker.concurrency, 16u);
}

TEST(HealthcheckConfig, MostSpecificBlockWinsKeyByKey) {
  Config c = parse_config_text(
      config("interval: 20s, rise: 3, freshness: {max_lag: 30m}",
             "rise: 1, liveness: {expect_status: 204}",
             "interval: 60s, rise: 5, fall: 4, timeout: 2s, initial: down, "
             "liveness: {path: health, expect_body: ok}, freshness: {method: trace, max_lag: 1h}"),
      "test.yaml");
  const ProbeSettings& berlin = mirror(c, "berlin").probe;
  EXPECT_EQ(berlin.interval, seconds(20));             // service over global
  EXPECT_EQ(berlin.rise, 1u);                          // mirror over service over global
  EXPECT_EQ(berlin.fall, 4u);                          // global
  EXPECT_EQ(berlin.timeout, seconds(2));               // global
  EXPECT_FALSE(berlin.initial_up);                     // global
  EXPECT_EQ(berlin.liveness.path, "health");           // global, beside the mirror's status
  EXPECT_EQ(berlin.liveness.expect_body, "ok");        // global
  EXPECT_EQ(berlin.liveness.expect_status, 204u);      // mirror
  EXPECT_EQ(berlin.freshness.method, FreshnessMethod::Trace);  // global
  EXPECT_EQ(berlin.freshness.max_lag, minutes(30));    // service, beside the global method
  const ProbeSettings& tokyo = mirror(c, "tokyo").probe;
  EXPECT_EQ(tokyo.interval, seconds(20));
  EXPECT_EQ(tokyo.rise, 3u);
  EXPECT_EQ(tokyo.liveness.expect_status, 200u);
}

// Two services in two zones; `a` lists tokyo, `b` lists berlin and tokyo, `c` lists
// berlin. Each service's healthcheck block starts at a known position:
//   a: line 7, b: line 8, c: line 12, all at column 58.
std::string two_services(const std::string& a, const std::string& b, const std::string& c,
                         const std::string& tokyo = "") {
  return "geoip: {databases: [city.mmdb]}\n"
         "zones:\n"
         "  - origin: example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "    services:\n"
         "      - {name: a, mirrors: [tokyo],         healthcheck: {" + a + "}}\n"
         "      - {name: b, mirrors: [berlin, tokyo], healthcheck: {" + b + "}}\n"
         "  - origin: example.net.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "    services: [{name: c, mirrors: [berlin], healthcheck: {" + c + "}}]\n"
         "mirrors:\n"
         "  - {id: berlin, url: \"https://berlin.example/\", ipv4: [127.0.2.1]}\n"
         "  - {id: tokyo, url: \"https://tokyo.example/\", ipv4: [127.0.2.2], healthcheck: {" +
         tokyo + "}}\n"
         "  - {id: spare, url: \"https://spare.example/\", ipv4: [127.0.2.3]}\n"
         "healthcheck: {interval: 44s}\n";
}

TEST(HealthcheckConfig, ServicesAgreeingOnAMirrorsSettingsApplyThem) {
  Config c = parse_config_text(two_services("interval: 11s", "interval: 11s", "interval: 11s"),
                               "test.yaml");
  EXPECT_EQ(mirror(c, "tokyo").probe.interval, seconds(11));
  EXPECT_EQ(mirror(c, "berlin").probe.interval, seconds(11));
  // A mirror no service lists is still probed, with the global settings.
  EXPECT_EQ(mirror(c, "spare").probe.interval, seconds(44));
  EXPECT_EQ(mirror(c, "spare").service_host, "");
}

TEST(HealthcheckConfig, CheckHostServiceNamesTheServiceListingTheMirror) {
  Config c = parse_config_text(config("check_host: service"), "test.yaml");
  EXPECT_EQ(mirror(c, "berlin").probe.check_host, CheckHost::Service);
  EXPECT_EQ(mirror(c, "berlin").service_host, "www.example.org");
}

TEST(HealthcheckConfig, AKeyTheMirrorSetsItselfSettlesADisagreement) {
  Config c = parse_config_text(two_services("interval: 11s", "", "", "interval: 5s"), "test.yaml");
  EXPECT_EQ(mirror(c, "tokyo").probe.interval, seconds(5));
}

TEST(HealthcheckConfigErrors, ServicesProbingAMirrorDifferentlyNameBothPlaces) {
  EXPECT_EQ(only_error(two_services("interval: 11s", "", "")),
            "test.yaml:8:58: error: mirror 'tokyo' gets other health settings (interval) from "
            "service 'b' than from service 'a' at test.yaml:7:58 (a mirror is probed once: give "
            "both services the same settings for it, or set them in the mirror's own "
            "healthcheck:)");
}

TEST(HealthcheckConfigErrors, ServicesDisagreeingOnANestedSettingNameIt) {
  EXPECT_EQ(only_error(two_services("", "flapping: {changes: 9}", "flapping: {changes: 9}")),
            "test.yaml:8:58: error: mirror 'tokyo' gets other health settings (flapping) from "
            "service 'b' than from service 'a' at test.yaml:7:58 (a mirror is probed once: give "
            "both services the same settings for it, or set them in the mirror's own "
            "healthcheck:)");
}

TEST(HealthcheckConfigErrors, CheckHostServiceUnderTwoServiceNamesIsAConflict) {
  try {
    parse_config_text(two_services("check_host: service", "check_host: service",
                                   "check_host: service"),
                      "test.yaml");
    ADD_FAILURE() << "expected an error";
  } catch (const ConfigErrors& e) {
    // Each mirror would be probed under the name of either service.
    ASSERT_EQ(e.errors().size(), 2u) << e.what();
    EXPECT_EQ(e.errors()[0].str(),
              "test.yaml:8:58: error: mirror 'tokyo' gets other health settings (check_host: "
              "service) from service 'b' than from service 'a' at test.yaml:7:58 (a mirror is "
              "probed once: give both services the same settings for it, or set them in the "
              "mirror's own healthcheck:)");
    EXPECT_EQ(e.errors()[1].pos.str(), "test.yaml:12:58");
    EXPECT_NE(e.errors()[1].message.find("mirror 'berlin'"), std::string::npos);
  }
}

TEST(HealthcheckConfig, FlappingSettingsHaveDefaultsAndResolveKeyByKey) {
  Config c = parse_config_text(config("flapping: {changes: 6}", "flapping: {hold_down: 2m}",
                                      "flapping: {window: 15m}"),
                               "test.yaml");
  const auto& berlin = mirror(c, "berlin").probe.flapping;
  EXPECT_EQ(berlin.changes, 6u);
  EXPECT_EQ(berlin.window, minutes(15));
  EXPECT_EQ(berlin.hold_down, minutes(2));
  Config defaults = parse_config_text(config(""), "test.yaml");
  EXPECT_EQ(mirror(defaults, "tokyo").probe.flapping, healthcheck::FlapSettings{});
}

TEST(HealthcheckConfigErrors, FlappingKeysAreChecked) {
  EXPECT_EQ(only_error(config("", "", "flapping: {change: 3}")),
            "test.yaml:16:26: error: unknown key 'change' in 'flapping' (did you mean 'changes'?)");
  EXPECT_EQ(only_error(config("", "", "flapping: {window: 1500ms}")),
            "test.yaml:16:34: error: 'window' must be whole seconds, got '1500ms'");
  EXPECT_EQ(only_error(config("", "", "flapping: {changes: 0}")),
            "test.yaml:16:35: error: 'changes' must be between 1 and 1000, got 0");
}

TEST(HealthcheckConfig, GlobalConcurrencyIsTheCheckers) {
  Config c = parse_config_text(config("", "", "concurrency: 64"), "test.yaml");
  EXPECT_EQ(c.checker.concurrency, 64u);
}

TEST(HealthcheckConfig, MethodNeedsCanComeFromAnotherBlock) {
  Config c = parse_config_text(
      config("freshness: {method: canary}", "",
             "freshness: {upstream: \"http://up.example/guix\", canary_list: list.txt}"),
      "test.yaml");
  const auto& freshness = mirror(c, "berlin").probe.freshness;
  EXPECT_EQ(freshness.method, FreshnessMethod::Canary);
  EXPECT_EQ(freshness.upstream, "http://up.example/guix/");
  EXPECT_EQ(freshness.canary_list, "list.txt");
}

TEST(HealthcheckConfig, MaxLatencyAndSubSecondDurations) {
  Config c = parse_config_text(config("", "max_latency: 250ms, timeout: 1500ms"), "test.yaml");
  EXPECT_EQ(mirror(c, "berlin").probe.max_latency, milliseconds(250));
  EXPECT_EQ(mirror(c, "berlin").probe.timeout, milliseconds(1500));
  EXPECT_FALSE(mirror(c, "tokyo").probe.max_latency.has_value());
}

// --- errors, each at its position ----------------------------------------------

TEST(HealthcheckConfigErrors, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(only_error(config("", "", "intervall: 10s")),
            "test.yaml:16:15: error: unknown key 'intervall' in 'healthcheck' (did you mean "
            "'interval'?)");
  EXPECT_EQ(only_error(config("freshness: {metod: trace}")),
            "test.yaml:9:35: error: unknown key 'metod' in 'freshness' (did you mean 'method'?)");
  EXPECT_EQ(only_error(config("", "liveness: {status: 200}")),
            "test.yaml:14:30: error: unknown key 'status' in 'liveness' (expected one of: path, "
            "expect_status, expect_body)");
}

TEST(HealthcheckConfigErrors, WrongKinds) {
  EXPECT_EQ(only_error(config("", "liveness: nix-cache-info")),
            "test.yaml:14:29: error: 'liveness' must be a mapping, got a single value");
  EXPECT_EQ(only_error(config("", "", "freshness: {canaries: abc.narinfo}")),
            "test.yaml:16:37: error: 'canaries' must be a list, got a single value");
  EXPECT_EQ(only_error(config("", "", "rise: [2]")),
            "test.yaml:16:21: error: 'rise' must be a single value, got a list");
}

TEST(HealthcheckConfigErrors, BadDurations) {
  EXPECT_EQ(only_error(config("interval: 10 s")),
            "test.yaml:9:33: error: 'interval' must be a duration, got '10 s' (e.g. 10s, 500ms "
            "or 2m; a bare number is seconds)");
  EXPECT_EQ(only_error(config("", "", "timeout: 0s")),
            "test.yaml:16:24: error: 'timeout' must be longer than zero");
  EXPECT_EQ(only_error(config("", "", "freshness: {max_lag: 1500ms}")),
            "test.yaml:16:36: error: 'max_lag' must be whole seconds, got '1500ms'");
}

TEST(HealthcheckConfigErrors, NumbersOutOfRange) {
  EXPECT_EQ(only_error(config("", "", "jitter: 0.7")),
            "test.yaml:16:23: error: 'jitter' must be between 0 and 0.5, got 0.7");
  EXPECT_EQ(only_error(config("", "rise: 0")),
            "test.yaml:14:25: error: 'rise' must be between 1 and 100, got 0");
  EXPECT_EQ(only_error(config("fall: 101")),
            "test.yaml:9:29: error: 'fall' must be between 1 and 100, got 101");
  EXPECT_EQ(only_error(config("", "", "concurrency: 2000")),
            "test.yaml:16:28: error: 'concurrency' must be between 1 and 1024, got 2000");
  EXPECT_EQ(only_error(config("", "", "max_redirects: 11")),
            "test.yaml:16:30: error: 'max_redirects' must be between 0 and 10, got 11");
  EXPECT_EQ(only_error(config("", "liveness: {expect_status: 600}")),
            "test.yaml:14:45: error: 'expect_status' must be between 100 and 599, got 600");
}

TEST(HealthcheckConfigErrors, ConcurrencyOnlyGlobally) {
  EXPECT_EQ(only_error(config("concurrency: 4")),
            "test.yaml:9:23: error: 'concurrency' applies to the whole health checker (set it in "
            "the top-level healthcheck:)");
  EXPECT_EQ(only_error(config("", "concurrency: 4")),
            "test.yaml:14:19: error: 'concurrency' applies to the whole health checker (set it "
            "in the top-level healthcheck:)");
}

TEST(HealthcheckConfigErrors, BadChoicesListTheValidOnes) {
  EXPECT_EQ(only_error(config("freshness: {method: upstrem}")),
            "test.yaml:9:43: error: 'method' must be one of none, trace, upstream, canary, got "
            "'upstrem' (did you mean 'upstream'?)");
  EXPECT_EQ(only_error(config("", "", "check_host: sni")),
            "test.yaml:16:27: error: 'check_host' must be one of mirror, service, got 'sni'");
  EXPECT_EQ(only_error(config("", "initial: maybe")),
            "test.yaml:14:28: error: 'initial' must be one of up, down, got 'maybe'");
  EXPECT_EQ(only_error(config("", "", "tls_verify: maybe")),
            "test.yaml:16:27: error: 'tls_verify' must be true or false, got 'maybe'");
}

TEST(HealthcheckConfigErrors, PathsAreRelative) {
  EXPECT_EQ(only_error(config("", "liveness: {path: /nix-cache-info}")),
            "test.yaml:14:36: error: 'path' must be relative to the mirror's URL, got "
            "'/nix-cache-info' (drop the leading '/')");
  EXPECT_EQ(only_error(config("", "", "freshness: {canaries: [a.narinfo, /b.narinfo]}")),
            "test.yaml:16:49: error: a canary path must be relative to the mirror's URL, got "
            "'/b.narinfo' (drop the leading '/')");
}

TEST(HealthcheckConfigErrors, UpstreamMustBeAnHttpUrl) {
  EXPECT_EQ(only_error(config("", "", "freshness: {upstream: \"ftp://up.example/\"}")),
            "test.yaml:16:37: error: upstream URL 'ftp://up.example/' must start with http:// "
            "or https://");
}

TEST(HealthcheckConfigErrors, UnreadableCaFile) {
  EXPECT_EQ(only_error(config("", "ca_file: /nonexistent/ca.pem")),
            "test.yaml:14:28: error: cannot read 'ca_file' '/nonexistent/ca.pem': No such file "
            "or directory (a PEM file of CA certificates; relative paths are relative to the "
            "working directory)");
  EXPECT_EQ(only_error(config("", "ca_file: " GEOSTEER_SOURCE_DIR)),
            "test.yaml:14:28: error: cannot read 'ca_file' '" GEOSTEER_SOURCE_DIR
            "': Is a directory (a PEM file of CA certificates; relative paths are relative to "
            "the working directory)");
}

TEST(HealthcheckConfigErrors, UpstreamMethodWithoutUpstreamIsReportedOnceAtTheMethod) {
  // Both mirrors inherit the global method; the omission is one error, not two.
  EXPECT_EQ(only_error(config("", "", "freshness: {method: upstream}")),
            "test.yaml:16:35: error: freshness method 'upstream' needs an 'upstream' URL (e.g. "
            "upstream: \"https://ci.guix.gnu.org/\")");
}

TEST(HealthcheckConfigErrors, MissingNeedsAreReportedAtTheMostSpecificMethod) {
  EXPECT_EQ(only_error(config("", "freshness: {method: canary}",
                              "freshness: {method: trace, upstream: \"https://up.example/\"}")),
            "test.yaml:14:39: error: freshness method 'canary' needs 'canaries' or "
            "'canary_list' (narinfo paths every mirror in sync serves, or a file on the upstream "
            "listing them)");
}

TEST(HealthcheckConfigErrors, EmptyTracePathIsReportedAtTheMethodThatReadsIt) {
  EXPECT_EQ(only_error(config("", "freshness: {path: \"\"}", "freshness: {method: trace}")),
            "test.yaml:16:35: error: freshness method 'trace' needs a 'path' (e.g. path: "
            "trace/last-sync)");
}

}  // namespace
}  // namespace geosteer::zones

namespace geosteer::zones {
namespace {

const char* kWithoutHealthcheck =
    "geoip: {databases: [city.mmdb]}\n"
    "zones:\n"
    "  - origin: example.org.\n"
    "    soa: {mname: ns1, rname: hostmaster}\n"
    "    ns: [ns1]\n"
    "    services: [{name: www, mirrors: [berlin]}]\n"
    "mirrors:\n"
    "  - {id: berlin, url: \"https://berlin.example/\", ipv4: [127.0.2.1]}\n";

TEST(HealthcheckEnabled, ConfigurationWithoutAnyBlockSendsNoProbes) {
  EXPECT_FALSE(parse_config_text(kWithoutHealthcheck, "test.yaml").checker.enabled);
}

TEST(HealthcheckEnabled, ABlockOnOneMirrorTurnsProbingOn) {
  std::string yaml = kWithoutHealthcheck;
  yaml.replace(yaml.find("ipv4: [127.0.2.1]"), 17, "ipv4: [127.0.2.1], healthcheck: {rise: 1}");
  EXPECT_TRUE(parse_config_text(yaml, "test.yaml").checker.enabled);
}

}  // namespace
}  // namespace geosteer::zones
