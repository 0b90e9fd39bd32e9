// The small part of URLs a probe needs: http and https URLs, and the Location of a
// redirect resolved against the URL that answered it (RFC 3986 section 5.2, without
// dot-segment removal: mirrors do not redirect with "..").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace geosteer::healthcheck {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case, IPv6 without brackets
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, starting with '/'

  static std::optional<Url> parse(std::string_view text);

  // An absolute, scheme-relative, absolute-path or relative reference.
  std::optional<Url> resolve(std::string_view reference) const;

  bool tls() const { return scheme == "https"; }
  // host[:port] as the Host header names it: the port only when not the default.
  std::string authority() const;
  std::string to_string() const;

  friend bool operator==(const Url&, const Url&) = default;
};

}  // namespace geosteer::healthcheck
