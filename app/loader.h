// Loads a configuration file: parse and validate (zones/), open the GeoIP
// databases and place mirrors without a location (steering/), compile the zones.
// Every problem is a ConfigError with a file:line:column; nothing is returned
// unless everything loaded.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/snapshot.h"
#include "healthcheck/probe.h"
#include "healthcheck/state.h"

namespace geosteer::app {

// Throws zones::ConfigErrors.
std::shared_ptr<const LoadedConfig> load_config(const std::string& path, uint64_t generation);

// A snapshot of `loaded` with `health` (every mirror up when null); its steering
// answers are counted in `metrics` when given. `drained`: the ids of mirrors taken
// out at run time (geosteer ctl drain); ids the configuration lacks are ignored.
std::shared_ptr<const Snapshot> build_snapshot(std::shared_ptr<const LoadedConfig> loaded,
                                               std::shared_ptr<const healthcheck::HealthState> health,
                                               metrics::QueryMetrics* metrics = nullptr,
                                               const std::set<std::string>& drained = {});

// What the health checker probes: every address DNS hands out for each mirror,
// IPv4 first, in config order.
std::vector<healthcheck::Target> probe_targets(const zones::Config& config);

}  // namespace geosteer::app
