// Probes every mirror on its own schedule (interval with jitter), at most
// `concurrency` at once, and publishes a new immutable HealthState whenever a
// verdict changes. Runs on the io_context it is given (never a query thread).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "healthcheck/probe.h"
#include "healthcheck/state.h"

namespace geosteer::healthcheck {

class Checker {
 public:
  using Publish = std::function<void(std::shared_ptr<const HealthState>)>;
  // Told of every probe result with the mirror's health before and after it (for
  // metrics); runs on the io_context.
  using ResultHook = std::function<void(const Target& target, const ProbeResult& result,
                                        const MirrorHealth& before, const MirrorHealth& after)>;

  // `targets` are indexed like Config::mirrors. `publish` runs on the io_context.
  Checker(boost::asio::io_context& io, CheckerSettings settings, std::vector<Target> targets,
          Publish publish);
  ~Checker();

  void start();
  void stop();
  void on_result(ResultHook hook);
  // After a reload: each address of a mirror whose id and URL are unchanged keeps
  // its verdict, counters and schedule (changed probe settings judge its next
  // result); new addresses start in their initial state. Publishes the new state.
  void reconfigure(CheckerSettings settings, std::vector<Target> targets);

  std::shared_ptr<const HealthState> state() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// One probe of each target now, `concurrency` at a time; `done` gets the results
// in target order. For `geosteer probe`.
void probe_all_once(boost::asio::io_context& io, CheckerSettings settings,
                    std::vector<Target> targets,
                    std::function<void(std::vector<ProbeResult>)> done);

}  // namespace geosteer::healthcheck
