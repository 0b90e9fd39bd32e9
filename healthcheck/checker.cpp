#include "healthcheck/checker.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <random>

#include "common/log.h"
#include "healthcheck/tracker.h"

namespace geosteer::healthcheck {
namespace asio = boost::asio;

namespace {

// The first probe of every mirror comes soon after start, spread over this window
// so that a restart does not fire every probe in the same millisecond.
constexpr Millis kStartSpread{1000};

// The same address of the same mirror: its health carries over a reload, whatever
// else changed (probe settings apply from the next probe) and wherever the mirror
// moved in the configuration.
bool same_address(const Target& a, const Target& b) {
  return a.mirror_id == b.mirror_id && a.url == b.url && a.address == b.address;
}

// Worst first, as steering would rank them; ties keep the earlier address.
bool worse(const MirrorHealth& a, const MirrorHealth& b) { return a.verdict > b.verdict; }

// "192.0.2.1" or "[2001:db8::1]", for names and reasons.
std::string address_text(const IpAddress& address) {
  return address.family == Family::V4 ? address.to_string() : "[" + address.to_string() + "]";
}

}  // namespace

struct Checker::Impl : std::enable_shared_from_this<Checker::Impl> {
  struct Entry {
    Entry(asio::io_context& io, Target t) : target(std::move(t)), tracker(target.settings), timer(io) {}
    Target target;
    Tracker tracker;
    asio::steady_timer timer;
    // When the timer is set to fire; nullopt while the probe is waiting or running.
    std::optional<asio::steady_timer::time_point> due_at;
    bool removed = false;
  };

  Impl(asio::io_context& io_in, CheckerSettings settings_in, Publish publish_in)
      : io(io_in), settings(settings_in), publish(std::move(publish_in)), prober(io_in) {}

  asio::io_context& io;
  CheckerSettings settings;
  Publish publish;
  ResultHook result_hook;
  Prober prober;
  std::vector<std::shared_ptr<Entry>> entries;  // one per probed address, in target order
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
        return e && !e->removed && same_address(e->target, target);
      });
      if (same != entries.end()) {
        next.push_back(std::move(*same));
        keep(next.back(), std::move(target));
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

  // The address keeps its verdict, counters and schedule, at the mirror's new
  // position (a mirror added or removed before it must not reset its verdict); new
  // settings judge its next result. A shorter interval brings the next probe forward.
  void keep(const std::shared_ptr<Entry>& entry, Target target) {
    bool timing_changed = entry->target.settings.interval != target.settings.interval ||
                          entry->target.settings.jitter != target.settings.jitter;
    entry->tracker.reconfigure(target.settings);
    entry->target = std::move(target);
    if (!timing_changed || !entry->due_at || !active()) return;
    Millis delay = next_delay(entry->target.settings);
    if (asio::steady_timer::clock_type::now() + delay < *entry->due_at) schedule(entry, delay);
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
    for (auto& entry : entries) {
      entry->timer.cancel();
      entry->due_at.reset();
    }
    waiting.clear();
  }

  void schedule(const std::shared_ptr<Entry>& entry, Millis delay) {
    entry->timer.expires_after(delay);
    entry->due_at = entry->timer.expiry();
    entry->timer.async_wait([self = shared_from_this(), weak = std::weak_ptr<Entry>(entry)](
                                const boost::system::error_code& ec) {
      auto entry = weak.lock();
      if (ec || !entry || entry->removed || !self->active()) return;
      entry->due_at.reset();
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
  bool several_addresses(size_t mirror) const {
    return std::count_if(entries.begin(), entries.end(),
                         [&](const auto& e) { return e->target.mirror == mirror; }) > 1;
  }

  // "berlin", or "berlin (192.0.2.1)" for one address of a mirror probed at several.
  std::string name_of(const Target& target) const {
    if (!several_addresses(target.mirror)) return target.mirror_id;
    return target.mirror_id + " (" + address_text(target.address) + ")";
  }

  // Steering reads each address's own verdict; operators see the mirror's worst
  // address, its reason naming the address when the mirror has several. The
  // mirror is fresh when every address whose freshness is known is.
  std::shared_ptr<HealthState> build_state() const {
    auto next = std::make_shared<HealthState>();
    size_t count = 0;
    for (const auto& entry : entries) count = std::max(count, entry->target.mirror + 1);
    next->mirrors.resize(count);
    next->addresses.resize(count);
    for (const auto& entry : entries) {
      next->addresses[entry->target.mirror].push_back(
          {entry->target.address, entry->tracker.health()});
    }
    for (size_t mirror = 0; mirror < count; ++mirror) {
      const auto& addresses = next->addresses[mirror];
      if (addresses.empty()) continue;
      auto worst = std::min_element(addresses.begin(), addresses.end(), [](const auto& a, const auto& b) {
        return worse(a.health, b.health);
      });
      MirrorHealth& shown = next->mirrors[mirror];
      shown = worst->health;
      if (addresses.size() > 1 && !shown.reason.empty()) {
        shown.reason = address_text(worst->address) + ": " + shown.reason;
      }
      shown.fresh.reset();
      for (const auto& address : addresses) {
        if (address.health.fresh) shown.fresh = shown.fresh.value_or(true) && *address.health.fresh;
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
