#include "healthcheck/probe.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <boost/asio/redirect_error.hpp>

#include "healthcheck/http_session.h"
#include "healthcheck/time_text.h"
#include "healthcheck/url.h"

namespace geosteer::healthcheck {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

bool operator==(const Target&, const Target&) = default;

namespace {

// What the upstream answered for one URL, shared by the probes of every mirror.
struct UpstreamAnswer {
  std::string failure;  // why no HTTP answer arrived; empty when one did
  unsigned status = 0;
  std::string body;
};

// The upstream's answer, or why there is none, as a probe's note.
std::optional<std::string> unavailable(const UpstreamAnswer& answer, const std::string& what) {
  if (!answer.failure.empty()) return "upstream unavailable: " + what + ": " + answer.failure;
  if (answer.status != 200) {
    return "upstream unavailable: " + what + ": HTTP " + std::to_string(answer.status);
  }
  return std::nullopt;
}

// The value of the narinfo's "NarHash:" line; empty when it has none.
std::string nar_hash(const std::string& narinfo) {
  std::istringstream lines(narinfo);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("NarHash:")) continue;
    std::string value = line.substr(8);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r") + 1);
    return value;
  }
  return {};
}

// Canary paths, one per line; blank lines and '#' comments skipped.
std::vector<std::string> canary_lines(const std::string& text) {
  std::vector<std::string> paths;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && !line.starts_with('#')) paths.push_back(line);
  }
  return paths;
}

TlsPolicy tls_policy(const ProbeSettings& settings) {
  return TlsPolicy{settings.tls_verify, settings.ca_file, false};
}

// A ca_file is usually there for a private mirror while the upstream is a public
// server: the upstream is checked against the system CAs and the ca_file both.
TlsPolicy upstream_tls_policy(const ProbeSettings& settings) {
  return TlsPolicy{settings.tls_verify, settings.ca_file, true};
}

// An upstream answer fetched without verifying certificates must not serve a
// probe that verifies them: the TLS policy is part of the key.
std::string cache_key(const Url& url, const ProbeSettings& settings) {
  return url.to_string() + (settings.tls_verify ? " verify " : " noverify ") + settings.ca_file;
}

}  // namespace

// Shared by the Prober and the probes it started, so that a probe outliving its
// Prober still has its TLS contexts and cache.
struct ProberState {
  explicit ProberState(asio::io_context& io) : io(io) {}

  // The upstream's answer for `url`, from the cache when fresh; fetched once for
  // every probe asking while it is being fetched. Waits until `deadline` at most.
  asio::awaitable<UpstreamAnswer> upstream(std::shared_ptr<ProberState> self, Url url,
                                           ProbeSettings settings,
                                           Clock::time_point deadline);

  asio::io_context& io;
  TlsContexts tls;

 private:
  struct CacheEntry {
    std::optional<UpstreamAnswer> answer;
    Clock::time_point expires;
    bool fetching = false;
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;  // woken by cancel()
  };

  // Answers nobody can use any more go, so a changing canary list cannot grow the
  // cache without bound; entries being fetched or waited on stay.
  void forget_expired() {
    auto now = Clock::now();
    std::erase_if(cache_, [now](const auto& item) {
      const CacheEntry& e = item.second;
      return !e.fetching && e.waiters.empty() && e.answer && e.expires <= now;
    });
  }

  static asio::awaitable<void> fetch(std::shared_ptr<ProberState> self, Url url,
                                     ProbeSettings settings);

  std::map<std::string, CacheEntry> cache_;
};

asio::awaitable<UpstreamAnswer> ProberState::upstream(std::shared_ptr<ProberState> self,
                                                     Url url, ProbeSettings settings,
                                                       Clock::time_point deadline) {
  std::string key = cache_key(url, settings);
  forget_expired();
  CacheEntry& entry = cache_[key];
  if (entry.answer && Clock::now() < entry.expires) co_return *entry.answer;
  if (!entry.fetching) {
    entry.fetching = true;
    asio::co_spawn(io, fetch(self, url, settings), asio::detached);
  }
  auto waiter = std::make_shared<asio::steady_timer>(io, deadline);
  entry.waiters.push_back(waiter);
  boost::system::error_code ec;
  co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  CacheEntry& woken = cache_[key];
  if (ec == asio::error::operation_aborted && woken.answer) co_return *woken.answer;
  co_return UpstreamAnswer{"timeout after " + format_millis(settings.timeout), 0, {}};
}

asio::awaitable<void> ProberState::fetch(std::shared_ptr<ProberState> self, Url url,
                                          ProbeSettings settings) {
  // The upstream is reached by its name, as any client would.
  HttpSession session(
      self->io.get_executor(), self->tls, upstream_tls_policy(settings), Clock::now() + settings.timeout,
      settings.timeout, [](const Url& to) { return Route{std::nullopt, to.host, std::nullopt}; });
  UpstreamAnswer answer;
  std::vector<std::string> followed;
  try {
    HttpResponse response = co_await session.get(url, {settings.max_redirects, 200}, followed);
    answer.status = response.status;
    answer.body = std::move(response.body);
  } catch (const std::exception& e) {
    answer.failure = e.what();
  }
  session.close();
  // Half an interval: every mirror's probe of a round shares one fetch.
  CacheEntry& entry = self->cache_[cache_key(url, settings)];
  entry.answer = std::move(answer);
  entry.expires = Clock::now() + settings.interval / 2;
  entry.fetching = false;
  for (auto& waiter : entry.waiters) waiter->cancel();
  entry.waiters.clear();
}

namespace {

// What freshness found: a reason the mirror is stale, and a note that the
// upstream could not be asked.
struct Freshness {
  std::optional<std::string> stale;
  std::optional<std::string> note;
};

// One probe of one target; lives in its coroutine.
class ProbeRun {
 public:
  ProbeRun(std::shared_ptr<ProberState> prober, Target target)
      : prober_(std::move(prober)),
        target_(std::move(target)),
        deadline_(Clock::now() + settings().timeout),
        mirror_(prober_->io.get_executor(), prober_->tls, tls_policy(settings()), deadline_,
                settings().timeout, [this](const Url& url) { return route(url); }) {}

  asio::awaitable<ProbeResult> run() {
    try {
      std::optional<Url> base = Url::parse(target_.url);
      if (!base) throw HttpFailure("bad URL " + target_.url);
      base_ = *base;
      co_await check_liveness();
      std::optional<std::string> slow = check_latency();
      Freshness freshness = co_await check_freshness();
      decide(slow, freshness);
    } catch (const std::exception& e) {
      result_.outcome = Outcome::Failed;
      result_.reason = e.what();
      result_.timed_out = Clock::now() >= deadline_;
    }
    mirror_.close();
    result_.connect_ms = mirror_.connect_ms();
    result_.tls_ms = mirror_.tls_ms();
    co_return result_;
  }

 private:
  const ProbeSettings& settings() const { return target_.settings; }

  // The mirror's own host (on any port) is reached at the address DNS hands out
  // for it, under the name its certificate must hold; a host it redirects to, by
  // that host's name.
  Route route(const Url& url) const {
    bool service_name = settings().check_host == CheckHost::Service;
    bool mirror_host = url.host == base_.host || (service_name && url.host == service_host());
    if (!mirror_host) return Route{std::nullopt, url.host, target_.address.family};
    return Route{target_.address, service_name ? service_host() : base_.host, std::nullopt};
  }

  std::string service_host() const {
    std::string host = target_.service_host;
    if (host.ends_with('.')) host.pop_back();
    return host;
  }

  Url mirror_url(const std::string& path) const {
    std::optional<Url> url = base_.resolve(path);
    if (!url) throw HttpFailure("bad path " + path);
    return *url;
  }

  asio::awaitable<HttpResponse> get_from_mirror(const std::string& path, unsigned final_status) {
    co_return co_await mirror_.get(mirror_url(path), {settings().max_redirects, final_status},
                                   result_.redirects);
  }

  asio::awaitable<void> check_liveness() {
    const LivenessSettings& liveness = settings().liveness;
    HttpResponse response;
    try {
      response = co_await get_from_mirror(liveness.path, liveness.expect_status);
    } catch (const HttpFailure& failure) {
      if (failure.status() != 0) result_.http_status = static_cast<int>(failure.status());
      result_.first_byte_ms = failure.first_byte_ms();
      throw;
    }
    result_.http_status = static_cast<int>(response.status);
    result_.first_byte_ms = response.first_byte_ms;
    if (response.status != liveness.expect_status) {
      throw HttpFailure("HTTP " + std::to_string(response.status));
    }
    if (!liveness.expect_body.empty() &&
        response.body.find(liveness.expect_body) == std::string::npos) {
      throw HttpFailure("body does not match");
    }
  }

  std::optional<std::string> check_latency() const {
    if (!settings().max_latency || !result_.first_byte_ms) return std::nullopt;
    auto limit = static_cast<double>(settings().max_latency->count());
    if (*result_.first_byte_ms <= limit) return std::nullopt;
    return "slow: first byte after " + std::to_string(std::lround(*result_.first_byte_ms)) +
           "ms > " + format_millis(*settings().max_latency);
  }

  asio::awaitable<Freshness> check_freshness() {
    switch (settings().freshness.method) {
      case FreshnessMethod::None: co_return Freshness{};
      case FreshnessMethod::Trace: co_return co_await check_trace();
      case FreshnessMethod::Upstream: co_return co_await check_against_upstream();
      case FreshnessMethod::Canary: co_return co_await check_canaries();
    }
    co_return Freshness{};
  }

  // The mirror's trace time, or why the mirror is stale without one.
  struct TraceTime {
    std::optional<SystemClock::time_point> time;
    std::string stale;
  };

  asio::awaitable<TraceTime> read_mirror_trace() {
    HttpResponse response = co_await get_from_mirror(settings().freshness.path, 200);
    if (response.status != 200) {
      co_return TraceTime{std::nullopt,
                          "stale: trace missing (HTTP " + std::to_string(response.status) + ")"};
    }
    auto time = parse_timestamp(response.body);
    if (!time) co_return TraceTime{std::nullopt, "stale: trace unreadable"};
    co_return TraceTime{time, {}};
  }

  asio::awaitable<Freshness> check_trace() {
    TraceTime trace = co_await read_mirror_trace();
    if (!trace.time) co_return Freshness{trace.stale, std::nullopt};
    co_return Freshness{judge_lag(SystemClock::now() - *trace.time), std::nullopt};
  }

  asio::awaitable<Freshness> check_against_upstream() {
    TraceTime trace = co_await read_mirror_trace();
    if (!trace.time) co_return Freshness{trace.stale, std::nullopt};
    const std::string& path = settings().freshness.path;
    UpstreamAnswer answer = co_await ask_upstream(path);
    if (auto note = unavailable(answer, path)) co_return Freshness{std::nullopt, note};
    auto upstream_time = parse_timestamp(answer.body);
    if (!upstream_time) co_return Freshness{std::nullopt, "upstream unavailable: trace unreadable"};
    co_return Freshness{judge_lag(*upstream_time - *trace.time), std::nullopt};
  }

  asio::awaitable<Freshness> check_canaries() {
    // The upstream first: when it cannot answer, the mirror cannot be judged.
    std::vector<std::string> paths = settings().freshness.canaries;
    if (paths.empty() && !settings().freshness.canary_list.empty()) {
      const std::string& list = settings().freshness.canary_list;
      UpstreamAnswer answer = co_await ask_upstream(list);
      if (auto note = unavailable(answer, list)) co_return Freshness{std::nullopt, note};
      paths = canary_lines(answer.body);
    }
    std::vector<std::string> upstream_hashes;
    for (const std::string& path : paths) {
      UpstreamAnswer answer = co_await ask_upstream(path);
      if (auto note = unavailable(answer, "canary " + path)) co_return Freshness{std::nullopt, note};
      // A 200 without a NarHash (a "soft 404" page) is no reference to compare with.
      std::string hash = nar_hash(answer.body);
      if (hash.empty()) {
        co_return Freshness{std::nullopt, "upstream unavailable: canary " + path + " has no NarHash"};
      }
      upstream_hashes.push_back(std::move(hash));
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      HttpResponse response = co_await get_from_mirror(paths[i], 200);
      if (response.status != 200) {
        co_return Freshness{"stale: canary " + paths[i] + " missing (HTTP " +
                                std::to_string(response.status) + ")",
                            std::nullopt};
      }
      if (nar_hash(response.body) != upstream_hashes[i]) {
        co_return Freshness{"stale: canary " + paths[i] + " NarHash differs from upstream",
                            std::nullopt};
      }
    }
    co_return Freshness{};
  }

  asio::awaitable<UpstreamAnswer> ask_upstream(const std::string& path) {
    std::optional<Url> upstream = Url::parse(settings().freshness.upstream);
    std::optional<Url> url = upstream ? upstream->resolve(path) : std::nullopt;
    if (!url) co_return UpstreamAnswer{"bad URL " + settings().freshness.upstream, 0, {}};
    co_return co_await prober_->upstream(prober_, *url, settings(), deadline_);
  }

  std::optional<std::string> judge_lag(SystemClock::duration lag) {
    auto seconds = std::max(std::chrono::duration_cast<Seconds>(lag), Seconds(0));
    result_.lag_seconds = seconds.count();
    if (seconds <= settings().freshness.max_lag) return std::nullopt;
    return "stale: lag " + format_duration(seconds) + " > " +
           format_duration(settings().freshness.max_lag);
  }

  // Slow outranks stale, as in Verdict: a mirror both slow and stale is slow.
  void decide(const std::optional<std::string>& slow, const Freshness& freshness) {
    std::vector<std::string> reasons;
    result_.outcome = Outcome::Ok;
    if (freshness.stale) {
      result_.outcome = Outcome::Stale;
      reasons.push_back(*freshness.stale);
    }
    if (slow) {
      result_.outcome = Outcome::Slow;
      reasons.insert(reasons.begin(), *slow);
    }
    if (freshness.note) reasons.push_back(*freshness.note);
    // Known only when a freshness method judged the mirror: stale, or not stale
    // without the upstream being unavailable.
    bool judged = settings().freshness.method != FreshnessMethod::None &&
                  (freshness.stale || !freshness.note);
    if (judged) result_.fresh = !freshness.stale;
    for (const std::string& reason : reasons) {
      result_.reason += (result_.reason.empty() ? "" : "; ") + reason;
    }
  }

  std::shared_ptr<ProberState> prober_;
  Target target_;
  Url base_;
  Clock::time_point deadline_;
  HttpSession mirror_;
  ProbeResult result_;
};

asio::awaitable<void> run_probe(std::shared_ptr<ProbeRun> run,
                                std::function<void(ProbeResult)> done) {
  ProbeResult result = co_await run->run();
  done(std::move(result));
}

}  // namespace

struct Prober::Impl : ProberState {
  using ProberState::ProberState;
};

Prober::Prober(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

Prober::~Prober() = default;

void Prober::probe(const Target& target, std::function<void(ProbeResult)> done) {
  auto run = std::make_shared<ProbeRun>(impl_, target);
  // co_spawn starts the coroutine from the io_context, never inside this call.
  asio::co_spawn(impl_->io, run_probe(std::move(run), std::move(done)), asio::detached);
}

}  // namespace geosteer::healthcheck
