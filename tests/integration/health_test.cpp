// Health checking end to end: geosteer serving and probing real nginx mirrors on
// loopback addresses (one over HTTPS with a CA the test makes), queried with dig
// while mirrors are stopped, restarted and made stale.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/nginx_mirror.h"
#include "tests/support/tls_fixtures.h"

namespace geosteer::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Probe timing of the test configuration, and what a verdict change may take:
// `fall` (or `rise`) rounds of interval * (1 + jitter), plus a margin for a busy
// two-core machine.
constexpr milliseconds kInterval{200};
constexpr int kFall = 2, kRise = 2;
constexpr milliseconds kMargin{2500};
constexpr milliseconds kFallDeadline = kInterval * 11 / 10 * kFall + kMargin;
constexpr milliseconds kRiseDeadline = kInterval * 11 / 10 * kRise + kMargin;

const char* kBerlinClient = "130.149.7.0/24";

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string temp_directory(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              ("geosteer-health-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::create_directories(path);
  return path.string();
}

class HealthSteering : public ::testing::Test {
 protected:
  void SetUp() override {
    tls_ = make_tls_fixtures(temp_directory("tls"), {"berlin.mirror.test"});
    auto files = substitute_cache_files(unix_now());
    berlin_ = std::make_unique<NginxMirror>(NginxMirrorOptions{
        "127.0.0.2", tls_.server.certificate.string(), tls_.server.private_key.string(), files});
    tokyo_ = std::make_unique<NginxMirror>(NginxMirrorOptions{"127.0.0.3", "", "", files});
    backup_ = std::make_unique<NginxMirror>(NginxMirrorOptions{"127.0.0.4", "", "", files});
  }

  std::string config() const {
    return R"(server: {listen: ["127.0.0.1:{{PORT}}"], identity: health-e2e}
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip: {databases: ["{{FIXTURES}}/flat-ipv4.mmdb"]}
healthcheck: {interval: )" + std::to_string(kInterval.count()) + R"(ms, jitter: 0.1, timeout: 1s,
              rise: )" + std::to_string(kRise) + ", fall: " + std::to_string(kFall) + R"(, initial: down,
              freshness: {method: trace, path: trace/last-sync, max_lag: 1h}}
zones:
  - origin: example.org.
    soa: {mname: ns1.example.org., rname: hostmaster.example.org.}
    ns: [ns1.example.org.]
    services:
      - {name: mirrors, mirrors: [berlin, tokyo, backup], answers: 1, ttl: 1, fallback: [backup]}
mirrors:
  - {id: berlin, url: "https://berlin.mirror.test:)" + std::to_string(berlin_->https_port()) + R"(/",
     ipv4: [127.0.0.2], location: {lat: 52.52, lon: 13.40},
     healthcheck: {ca_file: ")" + tls_.ca.certificate.string() + R"("}}
  - {id: tokyo, url: ")" + tokyo_->http_url() + R"(", ipv4: [127.0.0.3], location: {lat: 35.68, lon: 139.69}}
  - {id: backup, url: ")" + backup_->http_url() + R"(", ipv4: [127.0.0.4], location: {lat: -33.87, lon: 151.21}}
)";
  }

  void start_geosteer() {
    server_ = std::make_unique<GeosteerServer>(config());
    // initial: down, so every mirror being answered normally proves its probes passed.
    ASSERT_TRUE(wait_for_log("mirror berlin: down -> up", kRiseDeadline)) << server_->log();
    ASSERT_TRUE(wait_for_log("mirror tokyo: down -> up", kRiseDeadline)) << server_->log();
    ASSERT_TRUE(wait_for_log("mirror backup: down -> up", kRiseDeadline)) << server_->log();
  }

  std::string answer_for_berlin() const {
    auto lines = short_lines(server_->dig("mirrors.example.org A +short +subnet=" + std::string(kBerlinClient)));
    return lines.empty() ? "" : lines[0];
  }

  // Polls until Berlin's client gets `expected`; returns how long it took, or
  // nullopt when the deadline passed.
  std::optional<milliseconds> wait_for_answer(const std::string& expected, milliseconds deadline) {
    auto start = Clock::now();
    while (Clock::now() - start < deadline) {
      if (answer_for_berlin() == expected) {
        return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return std::nullopt;
  }

  bool wait_for_log(const std::string& text, milliseconds deadline) {
    auto start = Clock::now();
    while (Clock::now() - start < deadline) {
      if (server_->log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  size_t occurrences(const std::string& text) const {
    std::string log = server_->log();
    size_t count = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++count;
    return count;
  }

  TlsFixtures tls_;
  std::unique_ptr<NginxMirror> berlin_, tokyo_, backup_;
  std::unique_ptr<GeosteerServer> server_;
};

TEST_F(HealthSteering, HealthyHttpsMirrorIsAnsweredToItsNeighbours) {
  start_geosteer();
  EXPECT_EQ(answer_for_berlin(), "127.0.0.2");
}

TEST_F(HealthSteering, StoppedMirrorLeavesTheAnswersWithinIntervalTimesFall) {
  start_geosteer();
  berlin_->stop();
  auto took = wait_for_answer("127.0.0.3", kFallDeadline);
  ASSERT_TRUE(took) << server_->log();
  EXPECT_NE(server_->log().find("mirror berlin: up -> down (connect refused)"), std::string::npos)
      << server_->log();
}

TEST_F(HealthSteering, TransitionIsLoggedOnce) {
  start_geosteer();
  berlin_->stop();
  ASSERT_TRUE(wait_for_answer("127.0.0.3", kFallDeadline));
  std::this_thread::sleep_for(kInterval * 5);  // several more failing rounds
  EXPECT_EQ(occurrences("mirror berlin: up -> down"), 1u) << server_->log();
}

TEST_F(HealthSteering, RestartedMirrorComesBackAfterRiseRounds) {
  start_geosteer();
  berlin_->stop();
  ASSERT_TRUE(wait_for_answer("127.0.0.3", kFallDeadline));
  berlin_->start();
  EXPECT_TRUE(wait_for_answer("127.0.0.2", kRiseDeadline)) << server_->log();
}

TEST_F(HealthSteering, StaleMirrorLeavesTheAnswers) {
  start_geosteer();
  berlin_->write_file("trace/last-sync", std::to_string(unix_now() - 2 * 3600) + "\n");
  EXPECT_TRUE(wait_for_answer("127.0.0.3", kFallDeadline)) << server_->log();
  EXPECT_NE(server_->log().find("mirror berlin: up -> stale (stale: lag 2h > 1h)"), std::string::npos)
      << server_->log();
}

TEST_F(HealthSteering, ReloadKeepsTheHealthOfUnchangedMirrors) {
  start_geosteer();
  berlin_->stop();
  ASSERT_TRUE(wait_for_answer("127.0.0.3", kFallDeadline)) << server_->log();
  server_->send_signal(SIGHUP);  // same configuration
  ASSERT_TRUE(wait_for_log("generation 2", kMargin)) << server_->log();
  // Berlin is still known to be down: no window where it is answered again.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(answer_for_berlin(), "127.0.0.3");
    std::this_thread::sleep_for(milliseconds(20));
  }
}

TEST_F(HealthSteering, ReloadWithAMirrorAddedBeforeKeepsTheOthersHealth) {
  start_geosteer();
  berlin_->stop();
  ASSERT_TRUE(wait_for_answer("127.0.0.3", kFallDeadline)) << server_->log();
  // A new first mirror moves every other one a place down the list.
  std::string text = config();
  text.replace(text.find("mirrors:\n"), 9,
               "mirrors:\n  - {id: extra, url: \"http://127.0.0.9:9/\", ipv4: [127.0.0.9], "
               "location: {lat: 0, lon: 0}}\n");
  server_->rewrite_config(text);
  server_->send_signal(SIGHUP);
  ASSERT_TRUE(wait_for_log("generation 2", kMargin)) << server_->log();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(answer_for_berlin(), "127.0.0.3");
    std::this_thread::sleep_for(milliseconds(20));
  }
}

TEST_F(HealthSteering, ReloadWithChangedProbeSettingsKeepsTheHealth) {
  start_geosteer();
  berlin_->stop();
  ASSERT_TRUE(wait_for_answer("127.0.0.3", kFallDeadline)) << server_->log();
  // Only the probe settings change: berlin's verdict must not start over (from
  // initial: up, which would answer it again until fall probes failed).
  std::string text = config();
  text.replace(text.find("jitter: 0.1"), 11, "jitter: 0.2");
  text.replace(text.find("timeout: 1s"), 11, "timeout: 2s");
  text.replace(text.find("initial: down"), 13, "initial: up");
  server_->rewrite_config(text);
  server_->send_signal(SIGHUP);
  ASSERT_TRUE(wait_for_log("generation 2", kMargin)) << server_->log();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(answer_for_berlin(), "127.0.0.3");
    std::this_thread::sleep_for(milliseconds(20));
  }
}

TEST_F(HealthSteering, AllStoppedGivesFallbackThenFailOpen) {
  start_geosteer();
  berlin_->stop();
  tokyo_->stop();
  // Only the fallback mirror is left, far away as it is.
  EXPECT_TRUE(wait_for_answer("127.0.0.4", kFallDeadline)) << server_->log();
  backup_->stop();
  ASSERT_TRUE(wait_for_log("mirror backup: up -> down", kFallDeadline)) << server_->log();
  // Nothing is healthy: every mirror is a candidate again and the closest answers.
  EXPECT_TRUE(wait_for_answer("127.0.0.2", kFallDeadline)) << server_->log();
}

TEST_F(HealthSteering, ProbeCommandReportsEveryMirrorHealthy) {
  std::string path = write_temp_file("probe.yaml", expand(config(), 5353));
  auto result = run_command(std::string(GEOSTEER_BINARY) + " probe -c " + path);
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("berlin"), std::string::npos);
  EXPECT_NE(result.output.find("200"), std::string::npos);
}

TEST_F(HealthSteering, ProbeCommandFailsAndSaysWhyForAStoppedMirror) {
  tokyo_->stop();
  std::string path = write_temp_file("probe.yaml", expand(config(), 5353));
  auto result = run_command(std::string(GEOSTEER_BINARY) + " probe -c " + path + " --mirror tokyo");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("connect refused"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("berlin"), std::string::npos) << result.output;
}

// A mirror with IPv4 and IPv6 is judged per family: broken IPv6 takes it out of
// the AAAA answers only. Both of its nginx listen on the URL's port, one per family.
class DualStackHealth : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = substitute_cache_files(unix_now());
    dual_v4_ = std::make_unique<NginxMirror>(NginxMirrorOptions{"127.0.0.5", "", "", files});
    NginxMirrorOptions v6{"::1", "", "", files};
    v6.http_port = dual_v4_->http_port();
    dual_v6_ = std::make_unique<NginxMirror>(v6);
    other_v6_ = std::make_unique<NginxMirror>(NginxMirrorOptions{"::1", "", "", files});
    std::string port = std::to_string(dual_v4_->http_port());
    server_ = std::make_unique<GeosteerServer>(R"(server: {listen: ["127.0.0.1:{{PORT}}"]}
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip: {databases: ["{{FIXTURES}}/flat-ipv4.mmdb"]}
healthcheck: {interval: )" + std::to_string(kInterval.count()) + R"(ms, timeout: 1s, rise: 2, fall: 2,
              initial: down}
zones:
  - origin: example.org.
    soa: {mname: ns1.example.org., rname: hostmaster.example.org.}
    ns: [ns1.example.org.]
    services:
      - {name: mirrors, mirrors: [dual, other], answers: 1}
mirrors:
  - {id: dual, url: "http://dual.mirror.test:)" + port + R"(/", ipv4: [127.0.0.5], ipv6: ["::1"],
     location: {lat: 52.52, lon: 13.40}}
  - {id: other, url: ")" + other_v6_->http_url() + R"(", ipv6: ["::1"], location: {lat: 35.68, lon: 139.69}}
)");
  }

  // The explanation names the mirror each family gets, where addresses cannot.
  std::string explanation() const {
    return server_->dig("_geosteer.mirrors.example.org TXT +short +subnet=" + std::string(kBerlinClient));
  }

  bool wait_for_log(const std::string& text, milliseconds deadline) const {
    auto start = Clock::now();
    while (Clock::now() - start < deadline) {
      if (server_->log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  bool wait_for_explanation(const std::string& text, milliseconds deadline) const {
    auto start = Clock::now();
    while (Clock::now() - start < deadline) {
      if (explanation().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  std::unique_ptr<NginxMirror> dual_v4_, dual_v6_, other_v6_;
  std::unique_ptr<GeosteerServer> server_;
};

TEST_F(DualStackHealth, BrokenIpv6LeavesOnlyTheAaaaAnswers) {
  // initial: down, so both addresses of dual must have passed their own probes.
  ASSERT_TRUE(wait_for_log("mirror dual (127.0.0.5): down -> up", kRiseDeadline)) << server_->log();
  ASSERT_TRUE(wait_for_log("mirror dual ([::1]): down -> up", kRiseDeadline)) << server_->log();
  ASSERT_TRUE(wait_for_explanation("AAAA: dual", kRiseDeadline)) << explanation();
  dual_v6_->stop();
  EXPECT_TRUE(wait_for_explanation("AAAA: other", kFallDeadline)) << explanation() << server_->log();
  EXPECT_NE(explanation().find("\"A: dual"), std::string::npos) << explanation();
  EXPECT_NE(server_->log().find("mirror dual ([::1]): up -> down (connect refused)"), std::string::npos)
      << server_->log();
}

// Every address a mirror is answered with is probed and judged on its own: of two
// loopback addresses, the one where nothing listens leaves the answers while the
// other serves.
class PerAddressHealth : public ::testing::Test {
 protected:
  void SetUp() override {
    live_ = std::make_unique<NginxMirror>(
        NginxMirrorOptions{"127.0.0.7", "", "", substitute_cache_files(unix_now())});
    std::string port = std::to_string(live_->http_port());
    server_ = std::make_unique<GeosteerServer>(R"(server: {listen: ["127.0.0.1:{{PORT}}"]}
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip: {databases: ["{{FIXTURES}}/flat-ipv4.mmdb"]}
healthcheck: {interval: )" + std::to_string(kInterval.count()) + R"(ms, timeout: 1s, rise: 2, fall: 2,
              initial: down}
zones:
  - origin: example.org.
    soa: {mname: ns1.example.org., rname: hostmaster.example.org.}
    ns: [ns1.example.org.]
    services:
      - {name: mirrors, mirrors: [pair], answers: 1}
mirrors:
  - {id: pair, url: "http://pair.mirror.test:)" + port + R"(/", ipv4: [127.0.0.7, 127.0.0.8],
     location: {lat: 52.52, lon: 13.40}}
)");
  }

  std::vector<std::string> answer() const {
    return short_lines(server_->dig("mirrors.example.org A +short +subnet=" + std::string(kBerlinClient)));
  }

  std::unique_ptr<NginxMirror> live_;
  std::unique_ptr<GeosteerServer> server_;
};

// The entry of `address` among the addresses of `mirror` in a /status.json document;
// null while it is not there, or when the request got no whole document.
nlohmann::json address_status(const std::string& document, const std::string& mirror,
                              const std::string& address) {
  auto status = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded()) return nullptr;
  for (const auto& m : status.at("mirrors")) {
    if (m.at("id") != mirror) continue;
    for (const auto& a : m.at("addresses")) {
      if (a.at("address") == address) return a;
    }
  }
  return nullptr;
}

TEST_F(PerAddressHealth, AddressThatIsDownLeavesTheAnswersWhileTheOtherServes) {
  auto start = Clock::now();
  std::vector<std::string> got;
  while (Clock::now() - start < kRiseDeadline) {
    got = answer();
    if (got == std::vector<std::string>{"127.0.0.7"}) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  // initial: down, so only the live address's own probes can have brought it in.
  EXPECT_EQ(got, std::vector<std::string>{"127.0.0.7"}) << server_->log();
  EXPECT_NE(server_->log().find("mirror pair (127.0.0.7): down -> up"), std::string::npos)
      << server_->log();
  std::string metrics = server_->http_get("/metrics");
  EXPECT_NE(metrics.find(R"(geosteer_mirror_address_up{mirror="pair",address="127.0.0.7"} 1)"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(geosteer_mirror_address_up{mirror="pair",address="127.0.0.8"} 0)"),
            std::string::npos) << metrics;
  // .7 can rise before .8's first probe has failed (it starts down without a reason):
  // the reason shows once that probe is in.
  const nlohmann::json down = {{"address", "127.0.0.8"}, {"state", "down"}, {"reason", "connect refused"}};
  std::string status;
  for (auto until = Clock::now() + kFallDeadline; Clock::now() < until;) {
    status = server_->http_get("/status.json");
    if (address_status(status, "pair", "127.0.0.8") == down) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(address_status(status, "pair", "127.0.0.8"), down) << status;
}

}  // namespace
}  // namespace geosteer::testing
