// Minimal leveled logging to stderr, one line per event, safe from any thread.
#pragma once

#include <string_view>

namespace geosteer::log {

enum class Level { Debug, Info, Warning, Error };

void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warning(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

}  // namespace geosteer::log
