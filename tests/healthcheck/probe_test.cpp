// Probes against real HTTP and HTTPS servers on loopback (tests/support), one
// behaviour of the prober per test.
#include "healthcheck/probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>

#include "tests/support/http_test_server.h"
#include "tests/support/tls_fixtures.h"

namespace geosteer::healthcheck {
namespace {

using geosteer::testing::HttpTestServer;
using geosteer::testing::ServerMode;
using geosteer::testing::TestResponse;
using geosteer::testing::TlsFixtures;
using std::chrono::system_clock;

const std::string kCacheInfo = "StoreDir: /gnu/store\nWantMassQuery: 0\nPriority: 100\n";
const std::string kMirrorHost = "mirror.test";
const std::string kServiceHost = "substitutes.example.org";

std::string unix_time(system_clock::time_point time) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch())
                            .count()) +
         "\n";
}

std::string narinfo(const std::string& hash) {
  return "StorePath: /gnu/store/abc-hello-2.12\nURL: nar/gzip/abc\nNarHash: " + hash +
         "\nNarSize: 1024\n";
}

class ProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto directory = std::filesystem::temp_directory_path() /
                     ("geosteer-probe-test-" + std::to_string(::getpid()));
    tls_ = geosteer::testing::make_tls_fixtures(directory, {kMirrorHost, kServiceHost});
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(tls_->ca.certificate.parent_path());
    tls_.reset();
  }

  static const TlsFixtures& tls() { return *tls_; }

  // A mirror at the server, named kMirrorHost: probes never resolve that name.
  static Target target_for(const HttpTestServer& server) {
    Target target;
    target.mirror_id = "test-mirror";
    target.url = server.url(kMirrorHost);
    target.address = *IpAddress::parse("127.0.0.1");
    target.service_host = kServiceHost;
    target.settings.timeout = std::chrono::seconds(5);
    target.settings.ca_file = tls().ca.certificate.string();
    return target;
  }

  static void serve_cache_info(HttpTestServer& server) {
    server.set_response("/nix-cache-info", TestResponse::ok(kCacheInfo));
  }

  static std::vector<ProbeResult> probe_all(const std::vector<Target>& targets) {
    boost::asio::io_context io;
    Prober prober(io);
    std::vector<ProbeResult> results;
    for (const Target& target : targets) {
      prober.probe(target, [&results](ProbeResult result) { results.push_back(result); });
    }
    io.run();
    EXPECT_EQ(results.size(), targets.size());
    return results;
  }

  static ProbeResult probe(const Target& target) {
    std::vector<ProbeResult> results = probe_all({target});
    return results.empty() ? ProbeResult{} : results.front();
  }

 private:
  static inline std::optional<TlsFixtures> tls_;  // made once: key generation is not free
};

TEST_F(ProbeTest, HealthyHttpMirrorIsOkWithStatusAndTimings) {
  HttpTestServer server;
  serve_cache_info(server);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(result.reason, "");
  EXPECT_EQ(result.http_status, 200);
  ASSERT_TRUE(result.connect_ms.has_value());
  ASSERT_TRUE(result.first_byte_ms.has_value());
  EXPECT_FALSE(result.tls_ms.has_value());
  EXPECT_FALSE(result.lag_seconds.has_value());
}

TEST_F(ProbeTest, ConnectsToTheTargetAddressAndNamesTheUrlHost) {
  HttpTestServer server;
  serve_cache_info(server);
  probe(target_for(server));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].host, kMirrorHost + ":" + std::to_string(server.port()));
}

TEST_F(ProbeTest, DoneIsCalledOnceFromTheIoContextNotFromProbe) {
  HttpTestServer server;
  serve_cache_info(server);
  boost::asio::io_context io;
  Prober prober(io);
  int calls = 0;
  prober.probe(target_for(server), [&calls](ProbeResult) { ++calls; });
  EXPECT_EQ(calls, 0);
  io.run();
  EXPECT_EQ(calls, 1);
}

TEST_F(ProbeTest, ProbeOutlivesItsProber) {
  HttpTestServer server;
  serve_cache_info(server);
  boost::asio::io_context io;
  std::vector<ProbeResult> results;
  {
    Prober prober(io);
    prober.probe(target_for(server), [&results](ProbeResult r) { results.push_back(r); });
  }
  io.run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::Ok) << results[0].reason;
}

TEST_F(ProbeTest, HealthyHttpsMirrorTrustingTheCaFileIsOkWithTlsTime) {
  HttpTestServer server(tls().server);
  serve_cache_info(server);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  ASSERT_TRUE(result.tls_ms.has_value());
  EXPECT_GE(*result.tls_ms, 0.0);
}

TEST_F(ProbeTest, HttpsAgainstTheSystemCasRejectsTheTestCa) {
  HttpTestServer server(tls().server);
  serve_cache_info(server);
  Target target = target_for(server);
  target.settings.ca_file.clear();
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_TRUE(result.reason.starts_with("TLS: certificate verify failed")) << result.reason;
}

TEST_F(ProbeTest, RefusedConnectionFails) {
  HttpTestServer server;
  Target target = target_for(server);
  server.stop();
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "connect refused");
  EXPECT_EQ(result.http_status, 0);
  EXPECT_FALSE(result.timed_out);
}

TEST_F(ProbeTest, RestartedServerAnswersOnTheSamePortAgain) {
  HttpTestServer server;
  serve_cache_info(server);
  Target target = target_for(server);
  server.stop();
  ASSERT_EQ(probe(target).reason, "connect refused");
  server.start();
  EXPECT_EQ(probe(target).outcome, Outcome::Ok);
}

TEST_F(ProbeTest, SilenceAfterAcceptTimesOutWithinTheTimeout) {
  HttpTestServer server;
  server.set_mode(ServerMode::Silent);
  Target target = target_for(server);
  target.settings.timeout = std::chrono::milliseconds(500);
  auto start = std::chrono::steady_clock::now();
  ProbeResult result = probe(target);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "timeout after 500ms");
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.first_byte_ms.has_value());
  EXPECT_GE(elapsed, std::chrono::milliseconds(450));
  EXPECT_LT(elapsed, std::chrono::milliseconds(500) + std::chrono::seconds(3));
}

TEST_F(ProbeTest, WithoutAFreshnessMethodFreshnessIsUnknown) {
  HttpTestServer server;
  serve_cache_info(server);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Ok);
  EXPECT_FALSE(result.fresh.has_value());
}

TEST_F(ProbeTest, SilentHttpsServerTimesOutDuringTheHandshake) {
  HttpTestServer server(tls().server);
  server.set_mode(ServerMode::Silent);
  Target target = target_for(server);
  target.settings.timeout = std::chrono::seconds(1);
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "timeout after 1s");
}

TEST_F(ProbeTest, ConnectionClosedAfterAcceptFails) {
  HttpTestServer server;
  server.set_mode(ServerMode::CloseImmediately);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "connection closed");
}

TEST_F(ProbeTest, ServerErrorFailsWithItsStatus) {
  HttpTestServer server;
  server.set_response("/nix-cache-info", TestResponse::with_status(500, "oops"));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "HTTP 500");
  EXPECT_EQ(result.http_status, 500);
}

TEST_F(ProbeTest, WrongBodyFails) {
  HttpTestServer server;
  server.set_response("/nix-cache-info", TestResponse::ok("<html>parked domain</html>"));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "body does not match");
}

TEST_F(ProbeTest, LivenessPathStatusAndBodyAreConfigurable) {
  HttpTestServer server;
  server.set_response("/health", TestResponse::with_status(204));
  Target target = target_for(server);
  target.settings.liveness = LivenessSettings{"health", 204, ""};
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(result.http_status, 204);
}

TEST_F(ProbeTest, SlowFirstByteBeyondMaxLatencyIsSlow) {
  HttpTestServer server;
  server.set_response("/nix-cache-info",
                      TestResponse::ok(kCacheInfo).delayed(std::chrono::milliseconds(600)));
  Target target = target_for(server);
  target.settings.max_latency = std::chrono::milliseconds(100);
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Slow);
  EXPECT_TRUE(result.reason.starts_with("slow: first byte after ")) << result.reason;
  EXPECT_TRUE(result.reason.ends_with("ms > 100ms")) << result.reason;
  ASSERT_TRUE(result.first_byte_ms.has_value());
  EXPECT_GE(*result.first_byte_ms, 550.0);
}

TEST_F(ProbeTest, ExpiredCertificateFails) {
  HttpTestServer server(tls().expired);
  serve_cache_info(server);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "TLS: certificate expired");
}

TEST_F(ProbeTest, SelfSignedCertificateFailsVerification) {
  HttpTestServer server(tls().self_signed);
  serve_cache_info(server);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "TLS: certificate verify failed (self-signed certificate)");
}

TEST_F(ProbeTest, CertificateForAnotherHostIsAHostNameMismatch) {
  HttpTestServer server(tls().wrong_host);
  serve_cache_info(server);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "TLS: host name mismatch");
}

TEST_F(ProbeTest, TlsVerifyOffAcceptsASelfSignedCertificate) {
  HttpTestServer server(tls().self_signed);
  serve_cache_info(server);
  Target target = target_for(server);
  target.settings.tls_verify = false;
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
}

TEST_F(ProbeTest, CheckHostMirrorSendsTheUrlHostAsSniAndHost) {
  HttpTestServer server(tls().server);
  serve_cache_info(server);
  probe(target_for(server));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].sni, kMirrorHost);
  EXPECT_EQ(server.requests()[0].host, kMirrorHost + ":" + std::to_string(server.port()));
}

TEST_F(ProbeTest, CheckHostServiceSendsTheServiceNameAsSniAndHost) {
  HttpTestServer server(tls().server);
  serve_cache_info(server);
  Target target = target_for(server);
  target.url = server.url("mirror-without-certificate.test");
  target.settings.check_host = CheckHost::Service;
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].sni, kServiceHost);
  EXPECT_EQ(server.requests()[0].host, kServiceHost + ":" + std::to_string(server.port()));
}

TEST_F(ProbeTest, RedirectIsFollowedAndReported) {
  HttpTestServer server;
  server.set_response("/nix-cache-info",
                      TestResponse::redirect(301, "/cache/nix-cache-info"));
  server.set_response("/cache/nix-cache-info", TestResponse::ok(kCacheInfo));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(result.redirects, std::vector<std::string>{server.url(kMirrorHost) +
                                                       "cache/nix-cache-info"});
}

TEST_F(ProbeTest, RedirectToAnotherHostConnectsToThatHost) {
  HttpTestServer server, other;
  server.set_response("/nix-cache-info",
                      TestResponse::redirect(302, other.url() + "nix-cache-info"));
  serve_cache_info(other);
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(other.request_count("/nix-cache-info"), 1u);
}

TEST_F(ProbeTest, RedirectLoopIsTooManyRedirects) {
  HttpTestServer server;
  server.set_response("/nix-cache-info", TestResponse::redirect(302, "/a"));
  server.set_response("/a", TestResponse::redirect(307, "/b"));
  server.set_response("/b", TestResponse::redirect(308, "/a"));
  Target target = target_for(server);
  target.settings.max_redirects = 3;
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "too many redirects");
  EXPECT_EQ(result.redirects.size(), 3u);
}

TEST_F(ProbeTest, RedirectToAnotherSchemeFails) {
  HttpTestServer server;
  server.set_response("/nix-cache-info",
                      TestResponse::redirect(301, "https://mirror.test/nix-cache-info"));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "redirect to another scheme");
}

TEST_F(ProbeTest, GarbageInsteadOfHttpIsABadResponse) {
  HttpTestServer server;
  server.set_response("/nix-cache-info", TestResponse::verbatim("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "bad HTTP response");
}

TEST_F(ProbeTest, OversizedBodyFailsWithItsSizeAndTheStatusSent) {
  HttpTestServer server;
  server.set_response("/nix-cache-info",
                      TestResponse::ok(kCacheInfo + std::string(1024 * 1024, 'x')));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "body over 65536 bytes");
  EXPECT_EQ(result.http_status, 200);
  EXPECT_TRUE(result.first_byte_ms.has_value());
}

TEST_F(ProbeTest, OversizedChunkedBodyFailsWithItsSizeAndTheStatusSent) {
  HttpTestServer server;
  std::string chunk(70000, 'x');
  server.set_response("/nix-cache-info",
                      TestResponse::verbatim("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                             "11170\r\n" + chunk + "\r\n0\r\n\r\n"));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "body over 65536 bytes");
  EXPECT_EQ(result.http_status, 200);
}

TEST_F(ProbeTest, OversizedHeaderIsABadResponse) {
  HttpTestServer server;
  server.set_response("/nix-cache-info",
                      TestResponse::ok(kCacheInfo).header("X-Filler", std::string(40 * 1024, 'x')));
  ProbeResult result = probe(target_for(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_EQ(result.reason, "bad HTTP response");
}

TEST_F(ProbeTest, FlappingMirrorIsJudgedByEachProbe) {
  HttpTestServer server;
  serve_cache_info(server);
  Target target = target_for(server);
  EXPECT_EQ(probe(target).outcome, Outcome::Ok);
  server.set_response("/nix-cache-info", TestResponse::with_status(503));
  EXPECT_EQ(probe(target).reason, "HTTP 503");
  serve_cache_info(server);
  EXPECT_EQ(probe(target).outcome, Outcome::Ok);
}

class FreshnessTest : public ProbeTest {
 protected:
  static Target trace_target(const HttpTestServer& server) {
    Target target = target_for(server);
    target.settings.freshness.method = FreshnessMethod::Trace;
    target.settings.freshness.max_lag = std::chrono::hours(6);
    return target;
  }

  static void serve_trace(HttpTestServer& server, const std::string& body) {
    server.set_response("/trace/last-sync", TestResponse::ok(body));
  }
};

TEST_F(FreshnessTest, FreshUnixTraceIsOkWithItsLag) {
  HttpTestServer server;
  serve_cache_info(server);
  serve_trace(server, unix_time(system_clock::now() - std::chrono::minutes(5)));
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  ASSERT_TRUE(result.lag_seconds.has_value());
  EXPECT_GE(*result.lag_seconds, 299);
  EXPECT_LT(*result.lag_seconds, 360);
  EXPECT_EQ(result.fresh, true);
}

TEST_F(FreshnessTest, Rfc3339TraceWithOffsetIsRead) {
  HttpTestServer server;
  serve_cache_info(server);
  // Ten minutes ago, written in UTC+02:00.
  std::time_t then = system_clock::to_time_t(system_clock::now() - std::chrono::minutes(10) +
                                             std::chrono::hours(2));
  std::tm parts{};
  gmtime_r(&then, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.250+02:00\n", &parts);
  serve_trace(server, text);
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  ASSERT_TRUE(result.lag_seconds.has_value());
  EXPECT_GE(*result.lag_seconds, 598);
  EXPECT_LT(*result.lag_seconds, 660);
}

TEST_F(FreshnessTest, TraceOlderThanMaxLagIsStale) {
  HttpTestServer server;
  serve_cache_info(server);
  serve_trace(server, unix_time(system_clock::now() - std::chrono::hours(9)));
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.reason, "stale: lag 9h > 6h");
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.fresh, false);
}

TEST_F(FreshnessTest, FreshnessIsUnknownWhenLivenessFails) {
  HttpTestServer server;
  server.set_response("/nix-cache-info", TestResponse::with_status(503));
  serve_trace(server, unix_time(system_clock::now()));
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Failed);
  EXPECT_FALSE(result.fresh.has_value());
}

TEST_F(FreshnessTest, MissingTraceIsStale) {
  HttpTestServer server;
  serve_cache_info(server);
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.reason, "stale: trace missing (HTTP 404)");
}

TEST_F(FreshnessTest, UnreadableTraceIsStale) {
  HttpTestServer server;
  serve_cache_info(server);
  serve_trace(server, "last sync: yesterday\n");
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.reason, "stale: trace unreadable");
}

TEST_F(FreshnessTest, TraceIsFetchedOnTheLivenessConnection) {
  HttpTestServer server;
  serve_cache_info(server);
  serve_trace(server, unix_time(system_clock::now()));
  EXPECT_EQ(probe(trace_target(server)).outcome, Outcome::Ok);
  EXPECT_EQ(server.connection_count(), 1u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(FreshnessTest, ConnectionTheServerWillCloseIsNotReused) {
  HttpTestServer server;
  server.set_response("/nix-cache-info", TestResponse::ok(kCacheInfo).closing());
  serve_trace(server, unix_time(system_clock::now()));
  EXPECT_EQ(probe(trace_target(server)).outcome, Outcome::Ok);
  EXPECT_EQ(server.connection_count(), 2u);
}

TEST_F(FreshnessTest, KeptAliveConnectionClosedByTheServerIsRetriedOnANewOne) {
  HttpTestServer server;
  // Claims keep-alive (HTTP/1.1 default) but closes after answering.
  server.set_response("/nix-cache-info",
                      TestResponse::verbatim("HTTP/1.1 200 OK\r\nContent-Length: " +
                                          std::to_string(kCacheInfo.size()) + "\r\n\r\n" +
                                          kCacheInfo));
  serve_trace(server, unix_time(system_clock::now()));
  ProbeResult result = probe(trace_target(server));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(server.connection_count(), 2u);
}

class UpstreamTest : public FreshnessTest {
 protected:
  static Target upstream_target(const HttpTestServer& mirror, const HttpTestServer& upstream) {
    Target target = trace_target(mirror);
    target.settings.freshness.method = FreshnessMethod::Upstream;
    target.settings.freshness.upstream = upstream.url();
    target.settings.freshness.max_lag = std::chrono::hours(1);
    return target;
  }
};

TEST_F(UpstreamTest, LagIsUpstreamTimeMinusMirrorTime) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  auto upstream_time = system_clock::now() - std::chrono::hours(48);
  serve_trace(upstream, unix_time(upstream_time));
  serve_trace(mirror, unix_time(upstream_time - std::chrono::hours(2)));
  ProbeResult result = probe(upstream_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.lag_seconds, 7200);
  EXPECT_EQ(result.reason, "stale: lag 2h > 1h");
}

TEST_F(UpstreamTest, AnswerFetchedWithoutVerificationIsNotReusedByAVerifyingProbe) {
  // The upstream's certificate is self-signed: only the probe that does not verify
  // certificates may read it, even when both probes run in the same round.
  HttpTestServer trusting_mirror, verifying_mirror, upstream(tls().self_signed);
  auto now = unix_time(system_clock::now());
  for (HttpTestServer* mirror : {&trusting_mirror, &verifying_mirror}) {
    serve_cache_info(*mirror);
    serve_trace(*mirror, now);
  }
  serve_trace(upstream, now);
  Target trusting = upstream_target(trusting_mirror, upstream);
  trusting.settings.tls_verify = false;
  Target verifying = upstream_target(verifying_mirror, upstream);
  // One Prober, one after the other: the second finds the first's answer cached.
  boost::asio::io_context io;
  Prober prober(io);
  ProbeResult first, second;
  prober.probe(trusting, [&](ProbeResult r) { first = std::move(r); });
  io.run();
  io.restart();
  prober.probe(verifying, [&](ProbeResult r) { second = std::move(r); });
  io.run();
  EXPECT_EQ(first.reason, "");
  EXPECT_NE(second.reason.find("upstream unavailable"), std::string::npos) << second.reason;
  EXPECT_NE(second.reason.find("self-signed"), std::string::npos) << second.reason;
}

TEST_F(UpstreamTest, MirrorAheadOfUpstreamHasNoLag) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  serve_trace(upstream, unix_time(system_clock::now() - std::chrono::hours(1)));
  serve_trace(mirror, unix_time(system_clock::now()));
  ProbeResult result = probe(upstream_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(result.lag_seconds, 0);
}

TEST_F(UpstreamTest, UnavailableUpstreamDoesNotMakeTheMirrorStale) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  serve_trace(mirror, unix_time(system_clock::now() - std::chrono::hours(48)));
  Target target = upstream_target(mirror, upstream);
  upstream.stop();
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Ok);
  EXPECT_NE(result.reason.find("upstream unavailable"), std::string::npos) << result.reason;
  EXPECT_FALSE(result.lag_seconds.has_value());
  EXPECT_FALSE(result.fresh.has_value());
}

TEST_F(UpstreamTest, UpstreamIsFetchedOnceForEveryMirrorOfARound) {
  HttpTestServer mirror_a, mirror_b, upstream;
  auto now = system_clock::now();
  for (HttpTestServer* mirror : {&mirror_a, &mirror_b}) {
    serve_cache_info(*mirror);
    serve_trace(*mirror, unix_time(now));
  }
  serve_trace(upstream, unix_time(now));
  std::vector<ProbeResult> results =
      probe_all({upstream_target(mirror_a, upstream), upstream_target(mirror_b, upstream)});
  for (const ProbeResult& result : results) EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(upstream.request_count("/trace/last-sync"), 1u);
}

TEST_F(UpstreamTest, UpstreamAnswerIsReusedWithinHalfAnInterval) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  serve_trace(mirror, unix_time(system_clock::now()));
  serve_trace(upstream, unix_time(system_clock::now()));
  Target target = upstream_target(mirror, upstream);
  target.settings.interval = std::chrono::minutes(10);
  boost::asio::io_context io;
  Prober prober(io);
  for (int round = 0; round < 2; ++round) {
    prober.probe(target, [](ProbeResult result) {
      EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
    });
    io.restart();
    io.run();
  }
  EXPECT_EQ(mirror.request_count("/trace/last-sync"), 2u);
  EXPECT_EQ(upstream.request_count("/trace/last-sync"), 1u);
}

class CanaryTest : public UpstreamTest {
 protected:
  static constexpr const char* kCanary = "abc.narinfo";
  static constexpr const char* kHash = "sha256:0b5ed5vh3z4ahcb0jdqcpvqq0n5ja9pxwprz5p1pwxhsb0wcqwyr";

  static Target canary_target(const HttpTestServer& mirror, const HttpTestServer& upstream) {
    Target target = upstream_target(mirror, upstream);
    target.settings.freshness.method = FreshnessMethod::Canary;
    target.settings.freshness.canaries = {kCanary};
    return target;
  }
};

TEST_F(CanaryTest, CanaryWithTheUpstreamHashIsOk) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  mirror.set_response("/abc.narinfo", TestResponse::ok(narinfo(kHash)));
  upstream.set_response("/abc.narinfo", TestResponse::ok(narinfo(kHash)));
  ProbeResult result = probe(canary_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Ok) << result.reason;
  EXPECT_EQ(mirror.request_count("/abc.narinfo"), 1u);
}

TEST_F(CanaryTest, CanaryWithAnotherHashIsStale) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  mirror.set_response("/abc.narinfo", TestResponse::ok(narinfo("sha256:old")));
  upstream.set_response("/abc.narinfo", TestResponse::ok(narinfo(kHash)));
  ProbeResult result = probe(canary_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.reason, "stale: canary abc.narinfo NarHash differs from upstream");
}

TEST_F(CanaryTest, MissingCanaryIsStale) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  upstream.set_response("/abc.narinfo", TestResponse::ok(narinfo(kHash)));
  ProbeResult result = probe(canary_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.reason, "stale: canary abc.narinfo missing (HTTP 404)");
}

TEST_F(CanaryTest, CanaryListIsReadFromTheUpstream) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  upstream.set_response("/canaries.txt", TestResponse::ok("abc.narinfo\n\ndef.narinfo\n"));
  for (const char* path : {"/abc.narinfo", "/def.narinfo"}) {
    upstream.set_response(path, TestResponse::ok(narinfo(kHash)));
  }
  mirror.set_response("/abc.narinfo", TestResponse::ok(narinfo(kHash)));
  Target target = canary_target(mirror, upstream);
  target.settings.freshness.canaries.clear();
  target.settings.freshness.canary_list = "canaries.txt";
  ProbeResult result = probe(target);
  EXPECT_EQ(result.outcome, Outcome::Stale);
  EXPECT_EQ(result.reason, "stale: canary def.narinfo missing (HTTP 404)");
}

TEST_F(CanaryTest, SoftNotFoundPagesOnBothSidesAreNoMatch) {
  // Both answer 200 with a page that holds no NarHash: no reference, no verdict.
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  mirror.set_response("/abc.narinfo", TestResponse::ok("<html>not found</html>"));
  upstream.set_response("/abc.narinfo", TestResponse::ok("<html>not found</html>"));
  ProbeResult result = probe(canary_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Ok);
  EXPECT_EQ(result.reason, "upstream unavailable: canary abc.narinfo has no NarHash");
}

TEST_F(CanaryTest, CanaryWithoutNarHashOnTheMirrorIsStale) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  mirror.set_response("/abc.narinfo", TestResponse::ok("<html>not found</html>"));
  upstream.set_response("/abc.narinfo", TestResponse::ok(narinfo(kHash)));
  ProbeResult result = probe(canary_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Stale);
}

TEST_F(CanaryTest, CanaryUnknownToTheUpstreamLeavesTheMirrorOk) {
  HttpTestServer mirror, upstream;
  serve_cache_info(mirror);
  ProbeResult result = probe(canary_target(mirror, upstream));
  EXPECT_EQ(result.outcome, Outcome::Ok);
  EXPECT_EQ(result.reason, "upstream unavailable: canary abc.narinfo: HTTP 404");
}

}  // namespace
}  // namespace geosteer::healthcheck
