// What operators see, end to end: /metrics after a known mix of queries and probe
// results (checked by value and by Prometheus's own parser), /healthz,
// /status.json, the status page rendered by headless Chromium, NSID and the
// _geosteer TXT explanation with real clients.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"
#include "tests/support/nginx_mirror.h"

namespace geosteer::testing {
namespace {

using std::chrono::milliseconds;

const std::string kName = "substitutes.guix.example.org";

// The value of one exposition line "name{labels} value", or -1 when absent.
double metric_value(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class Metrics : public ::testing::Test {
 protected:
  GeosteerServer server{test_config()};
};

TEST_F(Metrics, CountsAKnownMixOfQueriesExactly) {
  server.dig(kName + " AAAA +subnet=130.149.7.0/24");         // udp AAAA NOERROR, ECS, steered
  server.dig(kName + " AAAA +subnet=2001:638:809::/48 +tcp");  // tcp AAAA NOERROR, ECS, steered
  server.dig("nope.guix.example.org TXT");                     // udp TXT NXDOMAIN
  server.dig("big.guix.example.org TXT +noedns +ignore");      // udp TXT NOERROR, truncated
  server.dig(kName + " MX");                                   // udp MX NOERROR (no data)
  server.udp_exchange({0x01, 0x02, 0x03});                     // too short: dropped
  std::string text = server.http_get("/metrics");
  ASSERT_FALSE(text.empty());

  EXPECT_EQ(metric_value(text, R"(geosteer_dns_queries_total{transport="udp",qtype="AAAA",rcode="NOERROR"})"), 1) << text;
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_queries_total{transport="tcp",qtype="AAAA",rcode="NOERROR"})"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_queries_total{transport="udp",qtype="TXT",rcode="NXDOMAIN"})"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_queries_total{transport="udp",qtype="TXT",rcode="NOERROR"})"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_queries_total{transport="udp",qtype="MX",rcode="NOERROR"})"), 1);
  EXPECT_EQ(metric_value(text, "geosteer_dns_ecs_queries_total"), 2);
  EXPECT_EQ(metric_value(text, "geosteer_dns_truncated_total"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_dropped_total{reason="malformed"})"), 1);
  const std::string service = "service=\"" + kName + ".\"";
  EXPECT_EQ(metric_value(text, "geosteer_steering_answers_total{" + service + ",mirror=\"bordeaux\"}"), 2);
  EXPECT_EQ(metric_value(text, "geosteer_steering_answers_total{" + service + ",mirror=\"us-east\"}"), 2);
  EXPECT_EQ(metric_value(text, "geosteer_steering_answers_total{" + service + ",mirror=\"tokyo\"}"), 0);
  EXPECT_EQ(metric_value(text, "geosteer_steering_unlocated_total"), 0);
}

TEST_F(Metrics, AResponseSentToTheServerIsCountedAsADroppedResponse) {
  // A well-formed message asking for guix. A, but with QR set: a response, which
  // gets no reply (answering would let two servers bounce messages forever).
  const std::vector<uint8_t> response = {0x12, 0x34, 0x80, 0x00, 0,   1,   0,   0,   0,   0, 0,
                                         0,    4,    'g',  'u',  'i', 'x', 0,   0,   1,   0, 1};
  EXPECT_TRUE(server.udp_exchange(response, std::chrono::milliseconds(200)).empty());
  std::string text = server.http_get("/metrics");
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_dropped_total{reason="response"})"), 1) << text;
  EXPECT_EQ(metric_value(text, R"(geosteer_dns_dropped_total{reason="malformed"})"), 0);
}

TEST_F(Metrics, ClientWithoutLocationIsCountedUnlocated) {
  server.dig(kName + " A");  // from 127.0.0.1, which has no location
  EXPECT_EQ(metric_value(server.http_get("/metrics"), "geosteer_steering_unlocated_total"), 1);
}

TEST_F(Metrics, ConfigurationAndBuildAreExposed) {
  std::string text = server.http_get("/metrics");
  EXPECT_EQ(metric_value(text, "geosteer_config_generation"), 1) << text;
  EXPECT_EQ(metric_value(text, "geosteer_config_last_load_success"), 1);
  EXPECT_GT(metric_value(text, "geosteer_config_last_load_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(metric_value(text, "geosteer_geoip_build_epoch_seconds{database=\"" +
                                   fixture("flat-ipv4.mmdb") + "\"}"),
            1767225600);
  EXPECT_NE(text.find("geosteer_build_info{version=\""), std::string::npos);
}

TEST_F(Metrics, FailedReloadIsVisible) {
  server.rewrite_config("zones: [oops\n");
  server.send_signal(SIGHUP);
  double success = 1;
  for (int i = 0; i < 50 && success != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    success = metric_value(server.http_get("/metrics"), "geosteer_config_last_load_success");
  }
  EXPECT_EQ(success, 0);
}

TEST_F(Metrics, ExpositionPassesPromtool) {
  server.dig(kName + " A +subnet=130.149.7.0/24");
  std::string path = write_temp_file("metrics.txt", server.http_get("/metrics"));
  auto result = run_command("promtool check metrics < " + path);
  EXPECT_EQ(result.status, 0) << result.output;
}

TEST_F(Metrics, HealthzAnswersOkWhileServing) {
  auto result = run_command("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                            std::to_string(server.metrics_port()) + "/healthz");
  EXPECT_EQ(result.output, "200");
}

TEST_F(Metrics, StatusJsonIsValidAndListsMirrors) {
  std::string path = write_temp_file("status.json", server.http_get("/status.json"));
  auto result = run_command(
      "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
      "print(len(d[\"mirrors\"]), d[\"services\"][0][\"name\"])' " + path);
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "8 " + kName + ".\n");
}

TEST_F(Metrics, BadHttpRequestDoesNotStopTheServer) {
  run_command("printf 'GARBAGE\\r\\n\\r\\n' | timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
              std::to_string(server.metrics_port()) + "; cat >&3; cat <&3' >/dev/null");
  EXPECT_FALSE(server.http_get("/healthz").empty());
}

// --- answers that explain themselves ---------------------------------------------

TEST_F(Metrics, GeosteerTxtExplainsTheAnswerForTheEcsClient) {
  auto out = server.dig("_geosteer." + kName + " TXT +subnet=130.149.7.0/24");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << out;
  EXPECT_EQ(fields(answer[0]).at(1), "0");  // TTL 0
  EXPECT_NE(answer[0].find("130.149.7.0/24"), std::string::npos) << answer[0];
  EXPECT_NE(answer[0].find("ECS"), std::string::npos) << answer[0];
  EXPECT_NE(answer[0].find("130.149.0.0/16"), std::string::npos) << answer[0];
  EXPECT_NE(answer[0].find("berlin"), std::string::npos) << answer[0];
  EXPECT_NE(answer[0].find("km"), std::string::npos) << answer[0];
  EXPECT_EQ(dig_ecs(out), "130.149.7.0/24/24");  // scope = source: never shared
}

// --- a status page with one mirror up and one down, in a real browser ------------

class StatusPage : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = substitute_cache_files(static_cast<int64_t>(std::time(nullptr)));
    up_ = std::make_unique<NginxMirror>(NginxMirrorOptions{"127.0.0.2", "", "", files});
    down_ = std::make_unique<NginxMirror>(NginxMirrorOptions{"127.0.0.3", "", "", files});
    down_->stop();
    server_ = std::make_unique<GeosteerServer>(R"(server: {listen: ["127.0.0.1:{{PORT}}"], identity: status-e2e}
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip: {databases: ["{{FIXTURES}}/flat-ipv4.mmdb"]}
healthcheck: {interval: 1h, timeout: 2s, rise: 1, fall: 1}
zones:
  - origin: example.org.
    soa: {mname: ns1.example.org., rname: hostmaster.example.org.}
    ns: [ns1.example.org.]
    services:
      - {name: mirrors, mirrors: [berlin, tokyo], answers: 1}
mirrors:
  - {id: berlin, url: ")" + up_->http_url() + R"(", ipv4: [127.0.0.2], location: {lat: 52.52, lon: 13.40}}
  - {id: tokyo, url: ")" + down_->http_url() + R"(", ipv4: [127.0.0.3], location: {lat: 35.68, lon: 139.69}}
)");
    // One probe round (interval 1h; the first probes are spread over a second):
    // berlin ok, tokyo refused and down (fall 1).
    for (int i = 0; i < 100 && !first_round_done(); ++i) std::this_thread::sleep_for(milliseconds(50));
    ASSERT_TRUE(first_round_done()) << server_->log();
  }

  bool first_round_done() const {
    std::string text = server_->http_get("/metrics");
    return metric_value(text, R"(geosteer_mirror_probes_total{mirror="berlin",result="ok"})") == 1 &&
           metric_value(text, R"(geosteer_mirror_probes_total{mirror="tokyo",result="failed"})") == 1;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->metrics_port()) + "/"; }

  std::unique_ptr<NginxMirror> up_, down_;
  std::unique_ptr<GeosteerServer> server_;
};

std::string chromium(const std::string& args) {
  // The flags a sandbox without network needs: no background traffic, no GPU.
  return "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync "
         "--user-data-dir=$(mktemp -d) " + args + " 2>/dev/null";
}

TEST_F(StatusPage, ProbeResultsAreCountedExactly) {
  std::string text = server_->http_get("/metrics");
  EXPECT_EQ(metric_value(text, R"(geosteer_mirror_probes_total{mirror="berlin",result="ok"})"), 1) << text;
  EXPECT_EQ(metric_value(text, R"(geosteer_mirror_probes_total{mirror="tokyo",result="failed"})"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_mirror_transitions_total{mirror="tokyo",to="down"})"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_mirror_up{mirror="berlin"})"), 1);
  EXPECT_EQ(metric_value(text, R"(geosteer_mirror_up{mirror="tokyo"})"), 0);
  EXPECT_EQ(metric_value(text, R"(geosteer_mirror_probe_latency_seconds_count{mirror="berlin"})"), 1);
}

TEST_F(StatusPage, BrowserShowsOneMirrorUpAndOneDown) {
  auto dom = run_command(chromium("--dump-dom " + url()));
  ASSERT_EQ(dom.status, 0) << dom.output;
  EXPECT_NE(dom.output.find("<svg"), std::string::npos);
  EXPECT_NE(dom.output.find("data-mirror=\"berlin\""), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("state-up"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("state-down"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("connect refused"), std::string::npos) << dom.output;

  // Kept as a test artifact for a person to look at.
  std::filesystem::create_directories(source_path("build/test-artifacts"));
  std::string png = source_path("build/test-artifacts/status-page.png");
  std::filesystem::remove(png);
  auto shot = run_command(chromium("--window-size=1280,1100 --screenshot=" + png + " " + url()));
  EXPECT_TRUE(std::filesystem::exists(png)) << shot.output;
  EXPECT_GT(std::filesystem::file_size(png), 10000u);
}

// --- who goes where, in a real browser ------------------------------------------

// Two mirrors 0.1 degree apart, a third of a pixel on the map; no probes, every
// mirror up. A Berlin client gets berlin; so does a Tokyo one, berlin being the
// further east of the two.
class StatusPageCatchment : public ::testing::Test {
 protected:
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.metrics_port()) + "/"; }

  GeosteerServer server_{R"(server: {listen: ["127.0.0.1:{{PORT}}"], identity: catchment-e2e}
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip: {databases: ["{{FIXTURES}}/flat-ipv4.mmdb"]}
zones:
  - origin: example.org.
    soa: {mname: ns1.example.org., rname: hostmaster.example.org.}
    ns: [ns1.example.org.]
    services:
      - {name: mirrors, mirrors: [berlin, berlin-2], answers: 1}
mirrors:
  - {id: berlin, url: "http://127.0.0.2/", ipv4: [127.0.0.2], location: {lat: 52.52, lon: 13.40}}
  - {id: berlin-2, url: "http://127.0.0.3/", ipv4: [127.0.0.3], location: {lat: 52.52, lon: 13.30}}
)"};
};

// The (x, y) where the marker of `mirror` is drawn in `dom`, or nothing.
std::optional<std::pair<double, double>> marker_position(const std::string& dom, const std::string& mirror) {
  std::regex dot("<circle class=\"dot state-[a-z]+\" data-mirror=\"" + mirror +
                 "\" cx=\"([-0-9.]+)\" cy=\"([-0-9.]+)\"");
  std::smatch m;
  if (!std::regex_search(dom, m, dot)) return std::nullopt;
  return std::make_pair(std::stod(m[1]), std::stod(m[2]));
}

TEST_F(StatusPageCatchment, BrowserShowsDotsFromTwoCitiesAndCoLocatedMirrorsSideBySide) {
  for (const char* subnet : {"130.149.7.0/24", "130.149.7.0/24", "133.11.0.0/24"}) {  // Berlin twice, Tokyo
    auto out = server_.dig("mirrors.example.org A +short +subnet=" + std::string(subnet));
    ASSERT_EQ(short_lines(out), std::vector<std::string>{"127.0.0.2"}) << subnet << "\n" << out;
  }

  auto dom = run_command(chromium("--dump-dom " + url()));
  ASSERT_EQ(dom.status, 0) << dom.output;
  // berlin's clients: a dot on Berlin's 2-degree cell for two answers, one on Tokyo's for one.
  EXPECT_NE(dom.output.find("<circle class=\"catchment\" data-mirror=\"berlin\" data-cell=\"52,14\" "
                            "data-answers=\"2\""),
            std::string::npos)
      << dom.output;
  EXPECT_NE(dom.output.find("<circle class=\"catchment\" data-mirror=\"berlin\" data-cell=\"36,140\" "
                            "data-answers=\"1\""),
            std::string::npos);
  EXPECT_NE(dom.output.find("1 answer from 36\u00B0N 140\u00B0E (JP) to berlin"), std::string::npos);
  EXPECT_EQ(dom.output.find("class=\"catchment\" data-mirror=\"berlin-2\""), std::string::npos);
  // The two mirrors, a third of a pixel apart, drawn side by side: their rings do not touch.
  auto berlin = marker_position(dom.output, "berlin");
  auto berlin_2 = marker_position(dom.output, "berlin-2");
  ASSERT_TRUE(berlin && berlin_2) << dom.output;
  EXPECT_GE(std::hypot(berlin->first - berlin_2->first, berlin->second - berlin_2->second), 17.0);
  // The mirror list: addresses, families and weight.
  EXPECT_NE(dom.output.find("<td class=\"addresses\"><ul class=\"plain\"><li>127.0.0.3</li></ul></td>"
                            "<td class=\"families\">IPv4</td><td class=\"weight\">100</td>"),
            std::string::npos);
  // The GeoIP database and its build date.
  EXPECT_NE(dom.output.find("<time datetime=\"2026-01-01\">2026-01-01</time>"), std::string::npos);

  std::filesystem::create_directories(source_path("build/test-artifacts"));
  std::string png = source_path("build/test-artifacts/status-page-catchment.png");
  std::filesystem::remove(png);
  auto shot = run_command(chromium("--window-size=1280,1400 --screenshot=" + png + " " + url()));
  EXPECT_TRUE(std::filesystem::exists(png)) << shot.output;
}

}  // namespace
}  // namespace geosteer::testing
