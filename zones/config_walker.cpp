// The YAML walker: typed reads of nodes with file:line:column errors and did-you-mean.
#include "zones/config_parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <vector>

#include "common/dname.h"

namespace geosteer::zones::parsing {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

const char* kind_name(YAML::NodeType::value type) {
  switch (type) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// --- generic node checks -------------------------------------------------------

bool ConfigParser::expect(const YAML::Node& node, YAML::NodeType::value type,
                          std::string_view what) {
  if (node.Type() == type) return true;
  error(node, std::string(what) + " must be " + kind_name(type) + ", got " +
                  kind_name(node.Type()));
  return false;
}

std::optional<std::vector<Entry>> ConfigParser::entries(const YAML::Node& node,
                                                        std::string_view what) {
  if (!expect(node, YAML::NodeType::Map, what)) return std::nullopt;
  std::vector<Entry> out;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      error(kv.first, "keys in " + std::string(what) + " must be single values, got " +
                          kind_name(kv.first.Type()));
      continue;
    }
    Entry entry{kv.first.Scalar(), kv.first, kv.second};
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Entry& e) { return e.key == entry.key; });
    if (same != out.end()) {
      error(kv.first, "duplicate key " + quoted(entry.key) + " in " + std::string(what),
            "first given at " + pos(same->key_node).str());
      continue;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<Fields> ConfigParser::fields(const YAML::Node& node, std::string_view what,
                                           std::initializer_list<std::string_view> keys) {
  auto all = entries(node, what);
  if (!all) return std::nullopt;
  std::vector<Entry> known;
  for (auto& e : *all) {
    if (std::find(keys.begin(), keys.end(), e.key) != keys.end()) {
      known.push_back(std::move(e));
      continue;
    }
    auto suggestion = closest(e.key, keys);
    error(e.key_node, "unknown key " + quoted(e.key) + " in " + std::string(what),
          suggestion ? "did you mean " + quoted(*suggestion) + "?"
                     : "expected one of: " + join(keys));
  }
  return Fields(node, std::move(known));
}

const Entry* ConfigParser::required(const Fields& f, std::string_view key,
                                    std::string_view what) {
  const Entry* e = f.find(key);
  if (!e) error(f.map(), std::string(what) + " is missing " + quoted(key));
  return e;
}

std::optional<std::string> ConfigParser::scalar(const YAML::Node& node, std::string_view what) {
  if (node.IsNull()) {
    error(node, std::string(what) + " needs a value");
    return std::nullopt;
  }
  if (!expect(node, YAML::NodeType::Scalar, what)) return std::nullopt;
  return node.Scalar();
}

std::optional<uint64_t> ConfigParser::integer(const YAML::Node& node, std::string_view what,
                                              uint64_t min, uint64_t max) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  if (!text->empty() && (*text)[0] == '-' && all_digits(std::string_view(*text).substr(1))) {
    error(node, std::string(what) + " must not be negative, got " + *text,
          "allowed: " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  if (!all_digits(*text)) {
    error(node, std::string(what) + " must be a whole number, got " + quoted(*text));
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || value < min || value > max) {
    error(node, std::string(what) + " must be between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + *text);
    return std::nullopt;
  }
  return value;
}


std::optional<double> ConfigParser::real(const YAML::Node& node, std::string_view what,
                                         double min, double max) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  double value = 0;
  const char* first = text->data();
  if (!text->empty() && *first == '+') ++first;
  auto [end, ec] = std::from_chars(first, text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(value)) {
    error(node, std::string(what) + " must be a number, got " + quoted(*text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    std::ostringstream range;
    range << std::string(what) << " must be between " << min << " and " << max << ", got "
          << *text;
    error(node, range.str());
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> ConfigParser::name_wire(const YAML::Node& node,
                                                   std::string_view what,
                                                   const std::string& origin_wire) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto wire = dname::from_text(*text, origin_wire);
  if (!wire) {
    error(node, std::string(what) + " " + quoted(*text) + " is not a valid domain name",
          "labels of 1 to 63 characters separated by dots, 255 octets in all");
  }
  return wire;
}

std::optional<std::chrono::milliseconds> ConfigParser::duration(const YAML::Node& node,
                                                                std::string_view what,
                                                                bool zero_allowed) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    error(node, std::string(what) + " must be a duration, got " + quoted(*text),
          "e.g. 10s, 500ms or 2m; a bare number is seconds");
    return std::nullopt;
  }
  if (d->count() == 0 && !zero_allowed) {
    error(node, std::string(what) + " must be longer than zero");
    return std::nullopt;
  }
  return d;
}

std::optional<bool> ConfigParser::boolean(const YAML::Node& node, std::string_view what) {
  if (!scalar(node, what)) return std::nullopt;
  bool value = false;
  if (YAML::convert<bool>::decode(node, value)) return value;
  error(node, std::string(what) + " must be true or false, got " + quoted(node.Scalar()));
  return std::nullopt;
}

// The index of the option the value names.
std::optional<size_t> ConfigParser::choice(const YAML::Node& node, std::string_view what,
                                           std::initializer_list<std::string_view> options) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto found = std::find(options.begin(), options.end(), *text);
  if (found != options.end()) return static_cast<size_t>(found - options.begin());
  auto suggestion = closest(*text, options);
  error(node, std::string(what) + " must be one of " + join(options) + ", got " + quoted(*text),
        suggestion ? "did you mean " + quoted(*suggestion) + "?" : "");
  return std::nullopt;
}

// An http:// or https:// URL with a host, made to end in '/' so that paths append to it.
std::optional<std::string> ConfigParser::http_url(const YAML::Node& node, std::string_view what,
                                                  std::string_view label) {
  auto url = scalar(node, what);
  if (!url) return std::nullopt;
  std::string_view rest;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url->compare(0, scheme.size(), scheme) == 0) {
      rest = std::string_view(*url).substr(scheme.size());
    }
  }
  if (rest.data() == nullptr) {
    error(node, std::string(label) + " " + quoted(*url) + " must start with http:// or https://");
    return std::nullopt;
  }
  if (rest.empty() || rest[0] == '/') {
    error(node, std::string(label) + " " + quoted(*url) + " has no host");
    return std::nullopt;
  }
  if (url->back() != '/') *url += '/';
  return url;
}

// A path that is appended to a mirror's (or the upstream's) URL.
std::optional<std::string> ConfigParser::relative_path(const YAML::Node& node,
                                                       std::string_view what, bool allow_empty) {
  auto path = scalar(node, what);
  if (!path) return std::nullopt;
  if (path->empty() && !allow_empty) {
    error(node, std::string(what) + " must not be empty");
    return std::nullopt;
  }
  if (!path->empty() && (*path)[0] == '/') {
    error(node, std::string(what) + " must be relative to the mirror's URL, got " + quoted(*path),
          "drop the leading '/'");
    return std::nullopt;
  }
  return path;
}

}  // namespace geosteer::zones::parsing
