#include "healthcheck/checker.h"

#include <algorithm>
#include <deque>
#include <random>

#include "common/log.h"
#include "healthcheck/tracker.h"

namespace geosteer::healthcheck {
namespace asio = boost::asio;

namespace {

// The first probe of every mirror comes soon after start, spread over this window
// so that a restart does not fire every probe in the same millisecond.
constexpr Millis kStartSpread{1000};

// The same probe, whatever the mirror's position in the configuration.
bool probes_alike(Target a, const Target& b) {
  a.mirror = b.mirror;
  return a == b;
}

}  // namespace

struct Checker::Impl : std::enable_shared_from_this<Checker::Impl> {
  struct Entry {
    Entry(asio::io_context& io, Target t) : target(std::move(t)), tracker(target.settings), timer(io) {}
    Target target;
    Tracker tracker;
    asio::steady_timer timer;
    bool removed = false;
  };

  Impl(asio::io_context& io_in, CheckerSettings settings_in, Publish publish_in)
      : io(io_in), settings(settings_in), publish(std::move(publish_in)), prober(io_in) {}

  asio::io_context& io;
  CheckerSettings settings;
  Publish publish;
  ResultHook result_hook;
  Prober prober;
  std::vector<std::shared_ptr<Entry>> entries;  // indexed like Config::mirrors
  std::deque<std::weak_ptr<Entry>> waiting;     // due, but over the concurrency limit
  unsigned in_flight = 0;
  bool running = false;
  std::mt19937_64 random{std::random_device{}()};
  std::shared_ptr<const HealthState> state = std::make_shared<HealthState>();

  // Probing needs both start() and a configuration that asks for it.
  bool active() const { return running && settings.enabled; }

  void set_targets(std::vector<Target> targets) {
    std::vector<std::shared_ptr<Entry>> next;
    for (Target& target : targets) {
      auto same = std::find_if(entries.begin(), entries.end(), [&](const auto& e) {
        return e && !e->removed && probes_alike(e->target, target);
      });
      if (same != entries.end()) {
        // Unchanged: keeps its state and schedule, at the mirror's new position (a
        // mirror added or removed before it must not reset its verdict).
        (*same)->target.mirror = target.mirror;
        next.push_back(std::move(*same));
      } else {
        next.push_back(std::make_shared<Entry>(io, std::move(target)));
        if (active()) schedule(next.back(), initial_delay());
      }
    }
    for (auto& old : entries) {
      if (!old) continue;
      old->removed = true;
      old->timer.cancel();
    }
    entries = std::move(next);
  }

  Millis initial_delay() {
    return Millis(std::uniform_int_distribution<int64_t>(0, kStartSpread.count())(random));
  }

  // interval * (1 ± jitter): mirrors probed on the same interval drift apart.
  Millis next_delay(const ProbeSettings& s) {
    double factor = std::uniform_real_distribution<double>(1.0 - s.jitter, 1.0 + s.jitter)(random);
    return Millis(static_cast<int64_t>(static_cast<double>(s.interval.count()) * factor));
  }

  void start() {
    running = true;
    if (!settings.enabled) return;
    for (auto& entry : entries) schedule(entry, initial_delay());
  }

  void stop() {
    running = false;
    for (auto& entry : entries) entry->timer.cancel();
    waiting.clear();
  }

  void schedule(const std::shared_ptr<Entry>& entry, Millis delay) {
    entry->timer.expires_after(delay);
    entry->timer.async_wait([self = shared_from_this(), weak = std::weak_ptr<Entry>(entry)](
                                const boost::system::error_code& ec) {
      auto entry = weak.lock();
      if (ec || !entry || entry->removed || !self->active()) return;
      self->due(entry);
    });
  }

  void due(const std::shared_ptr<Entry>& entry) {
    if (in_flight >= settings.concurrency) {
      waiting.push_back(entry);
      return;
    }
    launch(entry);
  }

  void launch(const std::shared_ptr<Entry>& entry) {
    ++in_flight;
    prober.probe(entry->target, [self = shared_from_this(), weak = std::weak_ptr<Entry>(entry)](
                                    ProbeResult result) {
      --self->in_flight;
      if (auto entry = weak.lock(); entry && !entry->removed && self->active()) {
        self->record(*entry, result);
        self->schedule(entry, self->next_delay(entry->target.settings));
      }
      self->launch_waiting();
    });
  }

  void launch_waiting() {
    while (in_flight < settings.concurrency && !waiting.empty()) {
      auto entry = waiting.front().lock();
      waiting.pop_front();
      if (entry && !entry->removed && active()) launch(entry);
    }
  }

  void record(Entry& entry, const ProbeResult& result) {
    MirrorHealth before = entry.tracker.health();
    bool changed = entry.tracker.record(result);
    if (result_hook) result_hook(entry.target, result, before, entry.tracker.health());
    if (changed) {
      const MirrorHealth& now = entry.tracker.health();
      std::string line = "mirror " + name_of(entry.target) + ": " + to_string(before.verdict) +
                         " -> " + to_string(now.verdict);
      if (!now.reason.empty()) line += " (" + now.reason + ")";
      (now.verdict == Verdict::Up ? log::info : log::warning)(line);
    }
    refresh_state(changed);
  }

  // The full state is refreshed after every probe (latency, lag, status for the
  // operator); steering is told only when a verdict changed, since that is what
  // changes answers and a snapshot rebuild is not free.
  bool dual_stack(size_t mirror) const {
    return std::count_if(entries.begin(), entries.end(),
                         [&](const auto& e) { return e->target.mirror == mirror; }) > 1;
  }

  // "berlin", or "berlin (IPv6)" for one family of a mirror probed on both.
  std::string name_of(const Target& target) const {
    if (!dual_stack(target.mirror)) return target.mirror_id;
    return target.mirror_id + (target.address.family == Family::V4 ? " (IPv4)" : " (IPv6)");
  }

  // Steering reads each family's own verdict; operators see the mirror's worse
  // family, its reason naming the family when the mirror has two.
  std::shared_ptr<HealthState> build_state() const {
    auto next = std::make_shared<HealthState>();
    size_t count = 0;
    for (const auto& entry : entries) count = std::max(count, entry->target.mirror + 1);
    next->mirrors.resize(count);
    next->by_family.assign(count, {Verdict::Up, Verdict::Up});
    std::vector<bool> seen(count, false);
    for (const auto& entry : entries) {
      const Target& target = entry->target;
      const MirrorHealth& health = entry->tracker.health();
      next->by_family[target.mirror][target.address.family == Family::V4 ? 0 : 1] = health.verdict;
      MirrorHealth& shown = next->mirrors[target.mirror];
      if (seen[target.mirror] && health.verdict <= shown.verdict) continue;
      seen[target.mirror] = true;
      shown = health;
      if (!shown.reason.empty() && name_of(target) != target.mirror_id) {
        shown.reason = (target.address.family == Family::V4 ? "IPv4: " : "IPv6: ") + shown.reason;
      }
    }
    return next;
  }

  void refresh_state(bool verdict_changed) {
    state = build_state();
    if (verdict_changed && publish) publish(state);
  }
};

Checker::Checker(asio::io_context& io, CheckerSettings settings, std::vector<Target> targets,
                 Publish publish)
    : impl_(std::make_shared<Impl>(io, settings, std::move(publish))) {
  impl_->set_targets(std::move(targets));
  impl_->refresh_state(false);
}

Checker::~Checker() { impl_->stop(); }

void Checker::start() { impl_->start(); }

void Checker::stop() { impl_->stop(); }

void Checker::on_result(ResultHook hook) { impl_->result_hook = std::move(hook); }

void Checker::reconfigure(CheckerSettings settings, std::vector<Target> targets) {
  bool was_enabled = impl_->settings.enabled;
  impl_->settings = settings;
  // Turning probes on or off starts over: without probes every mirror is up, and
  // with them every mirror starts from its initial state and is scheduled anew.
  if (was_enabled != settings.enabled) impl_->entries.clear();
  impl_->set_targets(std::move(targets));
  impl_->refresh_state(true);
}

std::shared_ptr<const HealthState> Checker::state() const { return impl_->state; }

void probe_all_once(asio::io_context& io, CheckerSettings settings, std::vector<Target> targets,
                    std::function<void(std::vector<ProbeResult>)> done) {
  struct Round {
    Round(asio::io_context& io) : prober(io) {}
    Prober prober;
    std::vector<Target> targets;
    std::vector<ProbeResult> results;
    size_t next = 0, finished = 0;
    unsigned concurrency = 1;
    std::function<void(std::vector<ProbeResult>)> done;
  };
  auto round = std::make_shared<Round>(io);
  round->targets = std::move(targets);
  round->results.resize(round->targets.size());
  round->concurrency = std::max(1u, settings.concurrency);
  round->done = std::move(done);
  if (round->targets.empty()) {
    asio::post(io, [round] { round->done({}); });
    return;
  }
  // Each finished probe starts the next one, so at most `concurrency` run at once.
  auto launch_next = std::make_shared<std::function<void()>>();
  *launch_next = [round, launch_next] {
    if (round->next >= round->targets.size()) return;
    size_t index = round->next++;
    round->prober.probe(round->targets[index], [round, launch_next, index](ProbeResult result) {
      round->results[index] = std::move(result);
      if (++round->finished == round->targets.size()) {
        round->done(std::move(round->results));
        *launch_next = nullptr;  // break the self-reference
        return;
      }
      (*launch_next)();
    });
  };
  for (unsigned i = 0; i < round->concurrency; ++i) (*launch_next)();
}

}  // namespace geosteer::healthcheck
