// One probe of one mirror over HTTP or HTTPS (Boost.Beast, OpenSSL): liveness,
// latency and freshness, under one timeout. Asynchronous on the caller's
// io_context; never blocks it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/ip.h"
#include "healthcheck/settings.h"

namespace geosteer::healthcheck {

// One address of one mirror: every address DNS hands out is probed and judged on
// its own, so that a broken address leaves the answers while the others serve.
struct Target {
  std::string mirror_id;
  std::string url;        // the mirror's base URL, ending in '/'
  IpAddress address;      // where to connect
  std::string service_host;  // SNI/Host when settings.check_host is Service
  ProbeSettings settings;
  size_t mirror = 0;  // index in Config::mirrors

  friend bool operator==(const Target&, const Target&);
};

enum class Outcome {
  Ok,      // alive, fresh and fast
  Failed,  // not alive: connection, TLS, status or body wrong, or timeout
  Stale,   // alive, but lagging more than max_lag (or a canary missing or different)
  Slow,    // alive and fresh, but slower than max_latency
};
const char* to_string(Outcome o);

struct ProbeResult {
  Outcome outcome = Outcome::Failed;
  // Human-readable, short: "connect refused", "timeout after 5s", "HTTP 503",
  // "body does not match", "TLS: certificate expired", "stale: lag 9h > 6h".
  std::string reason;
  int http_status = 0;  // of the liveness request; 0 when none arrived
  // Milliseconds of the liveness request's phases, when they happened.
  std::optional<double> connect_ms, tls_ms, first_byte_ms;
  std::optional<int64_t> lag_seconds;  // freshness lag, when measured
  // In sync (true) or stale (false) when freshness was checked; unknown when the
  // probe did not get that far, has no freshness method or the upstream was unavailable.
  std::optional<bool> fresh;
  bool timed_out = false;  // the probe's timeout ended it
  std::vector<std::string> redirects;  // URLs followed, in order
};

// Probes share TLS contexts (one per CA setting) and cached upstream answers.
// A Prober and its probes belong to one io_context run by one thread.
class Prober {
 public:
  explicit Prober(boost::asio::io_context& io);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Runs one probe; `done` is called exactly once, on the io_context.
  void probe(const Target& target, std::function<void(ProbeResult)> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace geosteer::healthcheck
