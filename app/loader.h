// Builds a Snapshot from a configuration file: parse and validate (zones/), open
// the GeoIP databases and place mirrors without a location (steering/), compile
// the zones, assemble the steering engine. Every problem is a ConfigError with a
// file:line:column; nothing is published unless everything loaded.
#pragma once

#include <memory>
#include <string>

#include "app/snapshot.h"
#include "healthcheck/state.h"

namespace geosteer::app {

// Throws zones::ConfigErrors.
std::shared_ptr<const Snapshot> load_snapshot(
    const std::string& path, uint64_t generation,
    std::shared_ptr<const healthcheck::HealthState> health = nullptr);

}  // namespace geosteer::app
