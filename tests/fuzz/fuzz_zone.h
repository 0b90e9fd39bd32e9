// The zone and the steering stand-in the DNS fuzz targets answer from: a delegation
// with glue, a CNAME into a steered name, a wildcard, and one service.
#pragma once

#include <array>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "common/dname.h"
#include "dns/responder.h"

// Without __bool_true_false_are_defined (stdbool.h), ldns/common.h may #define bool.
#include <stdbool.h>

#include <ldns/ldns.h>

namespace geosteer::fuzz {

class FixedAnswers : public dns::DynamicAnswers {
 public:
  void answer(int, Family family, const dns::ClientSubnet& client,
              dns::DynamicAnswer& out) const override {
    out.addresses[0] = family == Family::V4 ? IpAddress::v4({198, 51, 100, 1})
                                            : IpAddress::v6({0x20, 0x01, 0x0d, 0xb8});
    out.count = 1;
    out.ttl = 60;
    // A scope that depends on the client, as real steering's does.
    out.scope_prefix = static_cast<uint8_t>(client.source_prefix / 2 + 8);
  }
  size_t explain(int, const dns::ClientSubnet&, std::span<char> out) const override {
    static constexpr char kText[] = "\x0b" "fuzz client";
    if (out.size() < sizeof kText - 1) return 0;
    std::memcpy(out.data(), kText, sizeof kText - 1);
    return sizeof kText - 1;
  }
};

inline std::string name(const char* text) { return *dname::from_text(text); }

inline zones::ZoneSet make_zones() {
  zones::ZoneBuilder zone(name("example.org."));
  std::string soa = name("ns1.example.org.") + name("hostmaster.example.org.") +
                    std::string("\0\0\0\1\0\0\x0e\x10\0\0\x02\x58\0\x12\x75\0\0\0\x01\x2c", 20);
  zone.add(name("example.org."), zones::rrtype::SOA, 3600, soa);
  zone.add(name("example.org."), zones::rrtype::NS, 3600, name("ns1.example.org."));
  zone.add(name("ns1.example.org."), zones::rrtype::A, 3600, std::string("\xc0\0\x02\x35", 4));
  zone.add(name("alias.example.org."), zones::rrtype::CNAME, 300, name("mirror.example.org."));
  zone.add_service(name("mirror.example.org."), 0);
  zone.add(name("*.wild.example.org."), zones::rrtype::TXT, 300, std::string("\3abc"));
  zone.add(name("sub.example.org."), zones::rrtype::NS, 3600, name("ns.sub.example.org."));
  zone.add(name("ns.sub.example.org."), zones::rrtype::A, 3600, std::string("\xc0\0\x02\x36", 4));
  std::vector<zones::Zone> zones;
  zones.push_back(zone.finish());
  return zones::ZoneBuilder::make_set(std::move(zones));
}

inline constexpr uint16_t kMaxUdpPayload = 1232;

inline const dns::Responder& responder() {
  static const zones::ZoneSet zones = make_zones();
  static const FixedAnswers answers;
  static const dns::Responder instance(zones, answers, 
      {"fuzz.geosteer.test", kMaxUdpPayload, dns::CookieSecret{1, 2, 3}, dns::system_unix_time});
  return instance;
}

// Answers `query` over both transports; aborts (a finding) on a response that an
// independent parser rejects, that is too long for UDP, or that answers another ID.
inline void respond_and_check(std::span<const uint8_t> query) {
  static std::array<uint8_t, 65535> out;
  for (dns::Transport transport : {dns::Transport::Udp, dns::Transport::Tcp}) {
    dns::RequestInfo info{transport, IpAddress::v4({203, 0, 113, 7})};
    size_t length = responder().respond(query, info, out);
    if (length == 0) continue;
    if (transport == dns::Transport::Udp && length > kMaxUdpPayload) std::abort();
    if (query.size() >= 2 && (out[0] != query[0] || out[1] != query[1])) std::abort();
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, out.data(), length) != LDNS_STATUS_OK) std::abort();
    ldns_pkt_free(pkt);
    // The rate limiter's slip of the same response must parse too (a response
    // without one question has no slip: 0, and it is dropped instead).
    size_t slip = dns::wire::truncate_to_question(out, length);
    if (slip == 0) continue;
    if (slip > length || ldns_wire2pkt(&pkt, out.data(), slip) != LDNS_STATUS_OK) std::abort();
    ldns_pkt_free(pkt);
  }
}

}  // namespace geosteer::fuzz
