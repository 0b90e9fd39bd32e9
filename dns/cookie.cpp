#include "dns/cookie.h"

#include <algorithm>

namespace geosteer::dns {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint32_t kMaxAge = 3600;         // RFC 9018 section 4.3: one hour in the past
constexpr uint32_t kMaxClockSkew = 300;    // and five minutes in the future

// The hash over the client cookie, the server cookie's first 8 octets as given
// (version, reserved, timestamp) and the client's address.
std::array<uint8_t, 8> cookie_hash(const CookieSecret& secret,
                                   std::span<const uint8_t, wire::CookieOption::kClientSize> client,
                                   std::span<const uint8_t, 8> head, const IpAddress& client_ip) {
  SipHash24 hash(secret);
  hash.update(client);
  hash.update(head);
  hash.update({client_ip.bytes.data(), client_ip.size()});
  return siphash24_bytes(hash.finish());
}

}  // namespace

std::array<uint8_t, kServerCookieSize> make_server_cookie(
    const CookieSecret& secret, std::span<const uint8_t, wire::CookieOption::kClientSize> client,
    const IpAddress& client_ip, uint32_t now) {
  std::array<uint8_t, kServerCookieSize> cookie{};
  cookie[0] = kVersion;  // then 3 reserved octets, zero
  for (int i = 0; i < 4; ++i) cookie[4 + i] = static_cast<uint8_t>(now >> (24 - 8 * i));
  auto hash = cookie_hash(secret, client, std::span(cookie).first<8>(), client_ip);
  std::copy(hash.begin(), hash.end(), cookie.begin() + 8);
  return cookie;
}

bool server_cookie_valid(const CookieSecret& secret, const wire::CookieOption& cookie,
                         const IpAddress& client_ip, uint32_t now) {
  if (cookie.server_length != kServerCookieSize || cookie.server[0] != kVersion) return false;
  uint32_t timestamp = uint32_t{cookie.server[4]} << 24 | uint32_t{cookie.server[5]} << 16 |
                       uint32_t{cookie.server[6]} << 8 | cookie.server[7];
  // Serial number arithmetic (RFC 1982): the timestamp wraps in 2106.
  uint32_t age = now - timestamp;
  uint32_t ahead = timestamp - now;
  if (age > kMaxAge && ahead > kMaxClockSkew) return false;
  std::span<const uint8_t, kServerCookieSize> server(cookie.server, kServerCookieSize);
  auto hash = cookie_hash(secret, std::span<const uint8_t, 8>(cookie.client, 8),
                          server.first<8>(), client_ip);
  // Compared in constant time: how many octets matched must not leak through timing.
  uint8_t difference = 0;
  for (size_t i = 0; i < hash.size(); ++i) difference |= hash[i] ^ server[8 + i];
  return difference == 0;
}

CookieStatus answer_cookie(const CookieSecret& secret, const wire::CookieOption& cookie,
                           const IpAddress& client_ip, uint32_t now,
                           std::span<uint8_t, kCookieOptionSize> out) {
  if (!cookie.present) return CookieStatus::None;
  std::span<const uint8_t, wire::CookieOption::kClientSize> client(cookie.client,
                                                                   wire::CookieOption::kClientSize);
  std::copy(client.begin(), client.end(), out.begin());
  auto server = make_server_cookie(secret, client, client_ip, now);
  std::copy(server.begin(), server.end(), out.begin() + client.size());
  return server_cookie_valid(secret, cookie, client_ip, now) ? CookieStatus::Valid
                                                             : CookieStatus::ClientOnly;
}

}  // namespace geosteer::dns
