#include "common/ip.h"

#include <arpa/inet.h>

#include <charconv>

namespace geosteer {

IpAddress IpAddress::v4(std::array<uint8_t, 4> b) {
  IpAddress a;
  a.family = Family::V4;
  for (int i = 0; i < 4; ++i) a.bytes[i] = b[i];
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& b) {
  IpAddress a;
  a.family = Family::V6;
  a.bytes = b;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    a.family = Family::V4;
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
  } else {
    a.family = Family::V6;
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  }
  return a;
}

IpAddress IpAddress::masked(unsigned length) const {
  IpAddress out = *this;
  for (unsigned i = 0; i < 16; ++i) {
    unsigned first_bit = i * 8;
    if (first_bit >= length) {
      out.bytes[i] = 0;
    } else if (length - first_bit < 8) {
      out.bytes[i] &= static_cast<uint8_t>(0xFF << (8 - (length - first_bit)));
    }
  }
  return out;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpPrefix p{*address, static_cast<uint8_t>(address->bits())};
  if (slash == std::string_view::npos) return p;
  auto digits = text.substr(slash + 1);
  unsigned length = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
      length > address->bits()) {
    return std::nullopt;
  }
  p.length = static_cast<uint8_t>(length);
  return p;
}

bool IpPrefix::contains(const IpAddress& a) const {
  return a.family == address.family && a.masked(length) == address.masked(length);
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

unsigned common_prefix_length(const IpAddress& a, const IpAddress& b) {
  unsigned bits = a.bits();
  for (unsigned i = 0; i < bits; ++i) {
    if (a.bit(i) != b.bit(i)) return i;
  }
  return bits;
}

}  // namespace geosteer
