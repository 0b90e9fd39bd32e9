// Boost.Asio, included the one way that builds with Debian 12's Boost 1.74 and
// GCC 12 (Asio's awaitable.hpp uses std::exchange without including <utility>),
// and the conversions between our IpAddress and Asio's addresses.
#pragma once

#include <utility>

#include <algorithm>
#include <boost/asio.hpp>

#include "common/ip.h"

namespace geosteer {

inline boost::asio::ip::address to_asio(const IpAddress& a) {
  if (a.family == Family::V4) {
    boost::asio::ip::address_v4::bytes_type bytes;
    std::copy_n(a.bytes.begin(), 4, bytes.begin());
    return boost::asio::ip::address_v4(bytes);
  }
  return boost::asio::ip::address_v6(a.bytes);
}

// An IPv4 client seen on a dual-stack socket (::ffff:a.b.c.d) is an IPv4 client.
inline IpAddress from_asio(const boost::asio::ip::address& a) {
  if (a.is_v4()) return IpAddress::v4(a.to_v4().to_bytes());
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return IpAddress::v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_bytes());
  }
  return IpAddress::v6(v6.to_bytes());
}

}  // namespace geosteer
