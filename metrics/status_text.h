// Text helpers the status page's HTML and JSON share. Internal to metrics/.
#pragma once

#include <cstdint>
#include <string>

namespace geosteer::metrics {

// unix_seconds in UTC, formatted by strftime(3); "?" when it cannot be.
std::string utc_time_text(int64_t unix_seconds, const char* format);

}  // namespace geosteer::metrics
