#include "healthcheck/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace geosteer::healthcheck {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

std::string_view without_fragment(std::string_view text) {
  return text.substr(0, text.find('#'));
}

// "host", "host:port", "[v6]" or "[v6]:port" into url.host and url.port.
bool parse_authority(std::string_view authority, Url& url) {
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return false;
    if (!rest.empty()) port = rest.substr(1);
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || authority.find('@') != std::string_view::npos) return false;
  url.host = lower(host);
  url.port = default_port(url.scheme);
  if (port.empty()) return true;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return false;
  }
  url.port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

std::optional<Url> Url::parse(std::string_view text) {
  size_t separator = text.find("://");
  if (separator == std::string_view::npos) return std::nullopt;
  Url url;
  url.scheme = lower(text.substr(0, separator));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = without_fragment(text.substr(separator + 3));
  size_t path_start = rest.find_first_of("/?");
  if (!parse_authority(rest.substr(0, path_start), url)) return std::nullopt;
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (!target.starts_with('/')) url.target.push_back('/');
  url.target.append(target);
  return url;
}

std::optional<Url> Url::resolve(std::string_view reference) const {
  reference = without_fragment(reference);
  // Absolute only when "scheme://" starts it: "/login?next=https://..." is a path.
  size_t scheme_end = reference.find("://");
  if (scheme_end != std::string_view::npos &&
      reference.substr(0, scheme_end).find_first_of("/?#") == std::string_view::npos) {
    return parse(reference);
  }
  if (reference.starts_with("//")) return parse(scheme + ":" + std::string(reference));
  Url url = *this;
  if (reference.starts_with('/')) {
    url.target = std::string(reference);
  } else if (reference.starts_with('?')) {
    url.target = target.substr(0, target.find('?')) + std::string(reference);
  } else if (!reference.empty()) {
    std::string path = target.substr(0, target.find('?'));
    url.target = path.substr(0, path.rfind('/') + 1) + std::string(reference);
  }
  return url;
}

std::string Url::authority() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port == default_port(scheme)) return name;
  return name + ":" + std::to_string(port);
}

std::string Url::to_string() const { return scheme + "://" + authority() + target; }

}  // namespace geosteer::healthcheck
