// IP addresses and prefixes shared by every concern (config, GeoIP, ECS).
// Plain values, no allocation: the query path copies them freely.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace geosteer {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

struct IpAddress {
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes, the rest stay 0

  static IpAddress v4(std::array<uint8_t, 4> b);
  static IpAddress v6(const std::array<uint8_t, 16>& b);
  static std::optional<IpAddress> parse(std::string_view text);

  unsigned bits() const { return family == Family::V4 ? 32 : 128; }
  unsigned size() const { return family == Family::V4 ? 4 : 16; }
  // The address with every bit past `length` cleared.
  IpAddress masked(unsigned length) const;
  bool bit(unsigned index) const { return (bytes[index / 8] >> (7 - index % 8)) & 1; }
  // 0.0.0.0 or ::, the wildcard a socket binds to listen on every address.
  bool is_unspecified() const { return *this == IpAddress{family, {}}; }
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct IpPrefix {
  IpAddress address;
  uint8_t length = 0;

  // "192.0.2.0/24", "2001:db8::/32"; a bare address is a host prefix.
  static std::optional<IpPrefix> parse(std::string_view text);

  bool contains(const IpAddress& a) const;
  bool host_bits_zero() const { return address.masked(length) == address; }
  std::string to_string() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// Number of leading bits two addresses of the same family share.
unsigned common_prefix_length(const IpAddress& a, const IpAddress& b);

}  // namespace geosteer
