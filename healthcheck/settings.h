// How a mirror is probed, fully resolved: global `healthcheck:` defaults, then the
// service's, then the mirror's own (the most specific wins). zones/ resolves them
// from the configuration; the prober and the tracker only read them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace geosteer::healthcheck {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

// The mirror's liveness: GET {url}{path} answers `expect_status` with a body that
// contains `expect_body` (nix-cache-info holds "StoreDir: /gnu/store").
struct LivenessSettings {
  std::string path = "nix-cache-info";
  unsigned expect_status = 200;
  std::string expect_body = "StoreDir:";

  friend bool operator==(const LivenessSettings&, const LivenessSettings&) = default;
};

enum class FreshnessMethod {
  None,
  Trace,     // {url}{path} holds a UNIX time or RFC 3339 time; lag = now - time
  Upstream,  // same file on the upstream; lag = upstream time - mirror time
  Canary,    // narinfo paths must answer 200 on the mirror with upstream's NarHash
};
const char* to_string(FreshnessMethod m);

struct FreshnessSettings {
  FreshnessMethod method = FreshnessMethod::None;
  std::string path = "trace/last-sync";  // relative to the mirror's (and upstream's) URL
  std::string upstream;                  // absolute URL ending in '/', for Upstream and Canary
  Seconds max_lag{6 * 3600};
  std::vector<std::string> canaries;  // narinfo paths, relative to the URLs
  std::string canary_list;            // or: a file on the upstream listing them, one per line

  friend bool operator==(const FreshnessSettings&, const FreshnessSettings&) = default;
};

enum class CheckHost {
  Mirror,   // SNI and Host: the host of the mirror's URL
  Service,  // SNI and Host: the service's own name (a mirror behind the shared name)
};

// A mirror whose verdict changes more than `changes` times within `window` is
// flapping: out of the answers until its verdict has held for `hold_down`.
struct FlapSettings {
  unsigned changes = 4;
  Seconds window{600};
  Seconds hold_down{300};

  friend bool operator==(const FlapSettings&, const FlapSettings&) = default;
};

struct ProbeSettings {
  Millis interval{30000};
  double jitter = 0.1;  // each wait is interval * (1 ± jitter), so probes do not align
  Millis timeout{5000};  // for the whole probe, every request of it included
  // Hysteresis, as gdnsd's monitors: `fall` failures not yet cleared by `rise`
  // consecutive successes take a mirror out; leaving any bad verdict takes `rise`
  // consecutive results beyond it.
  unsigned rise = 2;
  unsigned fall = 3;
  FlapSettings flapping;
  LivenessSettings liveness;
  FreshnessSettings freshness;
  std::optional<Millis> max_latency;  // slower time to first byte: the mirror is slow
  bool tls_verify = true;             // certificate chain and host name, system CAs
  std::string ca_file;                // PEM bundle to trust instead of the system CAs
  CheckHost check_host = CheckHost::Mirror;
  bool initial_up = true;  // state before the first result; up so a restart keeps answers
  unsigned max_redirects = 3;  // followed within the same scheme

  friend bool operator==(const ProbeSettings&, const ProbeSettings&) = default;
};

// Settings of the checker as a whole (global `healthcheck:` only).
struct CheckerSettings {
  // Probes run only when the configuration has a healthcheck: section somewhere;
  // without one every mirror counts as up and no traffic is sent to any mirror.
  bool enabled = false;
  unsigned concurrency = 16;  // probes in flight at once

  friend bool operator==(const CheckerSettings&, const CheckerSettings&) = default;
};

}  // namespace geosteer::healthcheck
