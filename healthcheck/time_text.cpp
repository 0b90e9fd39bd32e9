#include "healthcheck/time_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace geosteer::healthcheck {
namespace {

using std::chrono::system_clock;

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Reads exactly `width` digits at `text[pos]`.
std::optional<int> digits_at(std::string_view text, size_t pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  std::string_view field = text.substr(pos, width);
  if (!all_digits(field)) return std::nullopt;
  int value = 0;
  std::from_chars(field.data(), field.data() + field.size(), value);
  return value;
}

// "." followed by digits; milliseconds of it. `pos` moves past it.
std::chrono::milliseconds fraction_at(std::string_view text, size_t& pos) {
  if (pos >= text.size() || text[pos] != '.') return {};
  size_t start = ++pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
  std::string millis(text.substr(start, std::min<size_t>(pos - start, 3)));
  millis.resize(3, '0');
  return std::chrono::milliseconds(std::stoi(millis));
}

// The times a trace file may hold. system_clock counts nanoseconds in 64 bits, which
// ends in 2262: a mirror's "177600600000" (year 7597) must be refused, not overflow.
constexpr int kFirstYear = 1970, kLastYear = 2199;
constexpr int64_t kLastUnixSecond = 7258118399;  // 2199-12-31T23:59:59Z

std::optional<system_clock::time_point> parse_unix(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  if (!all_digits(whole) || whole.size() > 12) return std::nullopt;
  int64_t seconds = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (seconds > kLastUnixSecond) return std::nullopt;
  std::chrono::milliseconds fraction{};
  if (dot != std::string_view::npos) {
    size_t pos = dot;
    fraction = fraction_at(text, pos);
    if (pos != text.size() || pos == dot + 1) return std::nullopt;
  }
  return system_clock::time_point(std::chrono::seconds(seconds)) + fraction;
}

// "Z" or "+HH:MM" / "-HH:MM" ending the text at `pos`: the offset east of UTC.
std::optional<std::chrono::minutes> offset_at(std::string_view text, size_t pos) {
  std::string_view rest = text.substr(pos);
  if (rest == "Z" || rest == "z") return std::chrono::minutes(0);
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':') {
    return std::nullopt;
  }
  auto hours = digits_at(rest, 1, 2), minutes = digits_at(rest, 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  std::chrono::minutes offset(*hours * 60 + *minutes);
  return rest[0] == '-' ? -offset : offset;
}

std::optional<system_clock::time_point> parse_rfc3339(std::string_view text) {
  // 2026-11-26T10:00:00 is 19 characters; then a fraction and an offset.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[13] != ':' ||
      text[16] != ':' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')) {
    return std::nullopt;
  }
  auto year = digits_at(text, 0, 4), month = digits_at(text, 5, 2), day = digits_at(text, 8, 2);
  auto hour = digits_at(text, 11, 2), minute = digits_at(text, 14, 2);
  auto second = digits_at(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*year < kFirstYear || *year > kLastYear) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(*month),
                                   std::chrono::day(*day)};
  // 60 is a leap second, which RFC 3339 allows.
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  size_t pos = 19;
  std::chrono::milliseconds fraction = fraction_at(text, pos);
  auto offset = offset_at(text, pos);
  if (!offset) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
         std::chrono::seconds(*second) + fraction - *offset;
}

}  // namespace

std::optional<system_clock::time_point> parse_timestamp(std::string_view text) {
  text = trim(text);
  if (text.find('-') != std::string_view::npos) return parse_rfc3339(text);
  return parse_unix(text);
}

std::string format_duration(std::chrono::seconds duration) {
  struct Unit {
    int64_t seconds;
    char suffix;
  };
  static constexpr std::array<Unit, 4> units{{{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}}};
  int64_t total = std::max<int64_t>(duration.count(), 0);  // lags are clamped at zero
  for (size_t i = 0; i < units.size(); ++i) {
    if (total < units[i].seconds && i + 1 < units.size()) continue;
    std::string text = std::to_string(total / units[i].seconds) + units[i].suffix;
    int64_t rest = total % units[i].seconds;
    if (i + 1 < units.size() && rest / units[i + 1].seconds > 0) {
      text += std::to_string(rest / units[i + 1].seconds) + units[i + 1].suffix;
    }
    return text;
  }
  return "0s";
}

std::string format_millis(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) {
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(duration));
  }
  return std::to_string(duration.count()) + "ms";
}

}  // namespace geosteer::healthcheck
