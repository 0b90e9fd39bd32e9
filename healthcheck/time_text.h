// Times as mirrors write them in their trace files, and durations as the probe's
// reasons print them ("stale: lag 9h > 6h", "timeout after 5s").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace geosteer::healthcheck {

// A UNIX timestamp ("1764151200", optionally with a fraction) or an RFC 3339 time
// ("2026-11-26T10:00:00Z", "2026-11-26T11:00:00.25+01:00"), surrounding whitespace
// allowed. nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

// Compact: the largest unit and the next one when not zero: "45s", "3m20s", "9h", "1d2h".
std::string format_duration(std::chrono::seconds duration);

// Whole seconds as format_duration does, else milliseconds: "5s", "800ms", "1500ms".
std::string format_millis(std::chrono::milliseconds duration);

}  // namespace geosteer::healthcheck
