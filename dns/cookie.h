// DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018: what
// the server answers to a COOKIE option, and whether the server cookie a client
// sent back is one of ours. A valid one proves the client receives what is sent
// to its address, so its queries are no forgery (app/ exempts them from rate
// limiting). No allocation: SipHash-2-4 runs on the stack.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ip.h"
#include "common/siphash.h"
#include "dns/wire.h"

namespace geosteer::dns {

// 128 bits shared by every server of one anycast service, so that a cookie from
// one node is valid at all of them (RFC 9018 section 2).
using CookieSecret = SipHashKey;

constexpr size_t kServerCookieSize = 16;  // RFC 9018 section 4: version, reserved, time, hash
constexpr size_t kCookieOptionSize = wire::CookieOption::kClientSize + kServerCookieSize;

// RFC 9018 section 4.2: Version 1 | Reserved 0 | Timestamp | SipHash-2-4 of (Client
// Cookie | Version | Reserved | Timestamp | Client-IP) under the secret.
std::array<uint8_t, kServerCookieSize> make_server_cookie(
    const CookieSecret& secret, std::span<const uint8_t, wire::CookieOption::kClientSize> client,
    const IpAddress& client_ip, uint32_t now);

// RFC 9018 section 4.3: a version 1 cookie of 16 octets, made by us for this client
// cookie and address, with a timestamp at most an hour old and at most five minutes
// ahead (clocks of anycast nodes differ a little). `now` is seconds since the epoch.
bool server_cookie_valid(const CookieSecret& secret, const wire::CookieOption& cookie,
                         const IpAddress& client_ip, uint32_t now);

enum class CookieStatus : uint8_t {
  None,        // no COOKIE option
  ClientOnly,  // a client cookie, and no server cookie or one that is not (or no longer) ours
  Valid,       // a server cookie of ours for this client: the source address is real
};

// The COOKIE option of the response to `cookie` (the client cookie and a fresh
// server cookie) written into `out`; returns the status of the received cookie.
// RFC 7873 section 5.2.3/5.2.4: an invalid server cookie is answered as if only the
// client cookie had been sent.
CookieStatus answer_cookie(const CookieSecret& secret, const wire::CookieOption& cookie,
                           const IpAddress& client_ip, uint32_t now,
                           std::span<uint8_t, kCookieOptionSize> out);

}  // namespace geosteer::dns
