#include "zones/config.h"

// The public entry points of zones/config.h: reading the file, running the parser
// (zones/config_parser.h and its config_*.cpp sections) and reporting errors in order.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "zones/config_parser.h"

namespace geosteer::zones {

std::string SourcePos::str() const {
  if (line <= 0) return file;
  std::string out = file + ":" + std::to_string(line);
  if (column > 0) out += ":" + std::to_string(column);
  return out;
}

std::string ConfigError::str() const {
  std::string out = pos.str() + ": error: " + message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

namespace {

std::string join_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += '\n';
    out += e.str();
  }
  return out;
}

}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors)
    : std::runtime_error(join_errors(errors)), errors_(std::move(errors)) {}

std::string ListenAddress::str() const {
  if (address.family == Family::V6) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

const MirrorConfig* Config::find_mirror(std::string_view id) const {
  for (const auto& m : mirrors) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

namespace {

using parsing::is_digit;

// Milliseconds per unit, 0 for an unknown unit; `length` receives the unit's length.
uint64_t unit_ms(std::string_view rest, size_t& length) {
  length = 2;
  if (rest.substr(0, 2) == "ms") return 1;
  length = 1;
  switch (rest.empty() ? '\0' : rest[0]) {
    case 's': return 1000;
    case 'm': return 60 * 1000;
    case 'h': return 60 * 60 * 1000;
    case 'd': return 24 * 60 * 60 * 1000;
    default: return 0;
  }
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // Far beyond any sane timeout, and small enough that sums cannot overflow.
  constexpr uint64_t kLimit = uint64_t{1} << 53;
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, value);
    if (i == start || ec != std::errc()) return std::nullopt;
    size_t unit_length = 0;
    bool bare_number = start == 0 && i == text.size();  // seconds, like a YAML integer
    uint64_t unit = bare_number ? 1000 : unit_ms(text.substr(i), unit_length);
    if (unit == 0 || value > kLimit / unit) return std::nullopt;
    i += unit_length;
    total += value * unit;
    if (total > kLimit) return std::nullopt;
  }
  return std::chrono::milliseconds(total);
}

namespace {

void sort_by_position(std::vector<ConfigError>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.column) <
           std::tie(b.pos.file, b.pos.line, b.pos.column);
  });
}

}  // namespace

Config parse_config_text(const std::string& text, const std::string& path) {
  parsing::ConfigParser parser(path);
  Config config;
  try {
    config = parser.parse(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    // Syntax errors, and anything yaml-cpp rejects while we walk the tree.
    parser.error(parser.pos(e.mark), e.msg);
  }
  auto& errors = parser.errors();
  if (!errors.empty()) {
    sort_by_position(errors);
    throw ConfigErrors(std::move(errors));
  }
  return config;
}

Config parse_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigError error{SourcePos{path, 0, 0},
                      "cannot read the configuration: " + std::string(std::strerror(errno)), ""};
    throw ConfigErrors(std::vector<ConfigError>{error});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_text(text.str(), path);
}

}  // namespace geosteer::zones