// The authoritative engine: one query message in, one response message out.
// Pure function of (query bytes, transport, source address, zone data, dynamic
// answers); no sockets, no geography, no allocation per query.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "dns/cookie.h"
#include "zones/zone.h"

namespace geosteer::dns {

enum class Transport : uint8_t { Udp, Tcp };

struct RequestInfo {
  Transport transport = Transport::Udp;
  IpAddress source;  // the resolver (or stub) that sent the query
  // TCP: the connection's idle timeout in units of 100 ms, the TIMEOUT of an
  // edns-tcp-keepalive option (RFC 7828); unused over UDP.
  uint16_t tcp_keepalive = 0;
};

// The client a dynamic answer is tailored to, as the wire told us.
struct ClientSubnet {
  IpAddress address;          // ECS address (host bits past source_prefix zero) or source
  uint8_t source_prefix = 0;  // ECS SOURCE PREFIX-LENGTH; full length for a source address
  bool from_ecs = false;
};

// Where the responder writes the addresses of a tailored answer.
struct DynamicAnswer {
  static constexpr size_t kMaxAddresses = 64;
  IpAddress addresses[kMaxAddresses];
  size_t count = 0;
  uint32_t ttl = 0;
  uint8_t scope_prefix = 0;  // how much of the client address decided the answer
};

// Implemented by app/ on top of steering::Engine: answers A/AAAA of service names.
class DynamicAnswers {
 public:
  virtual ~DynamicAnswers() = default;
  // `service` is a zones::Node::service index; family is V4 for A, V6 for AAAA.
  // Leaves out.count == 0 when no mirror has an address of that family (NODATA).
  virtual void answer(int service, Family family, const ClientSubnet& client,
                      DynamicAnswer& out) const = 0;
  // TXT RDATA (length-prefixed character-strings of at most 255 octets) explaining
  // what `client` gets from `service`: the address used and its source, the location
  // and network found, the mirrors chosen with distances and states. Written into
  // `out`; returns its length. Answers `_geosteer.<service name>` TXT queries.
  virtual size_t explain(int service, const ClientSubnet& client, std::span<char> out) const = 0;
};

// What happened to one message, for metrics and response rate limiting. Filled by
// respond() when asked.
struct QueryOutcome {
  enum class Drop : uint8_t { None, Malformed, Response };
  // The response's class as a rate limiter tells them apart (ratelimit/limiter.h).
  enum class Kind : uint8_t { Answer, NoData, NxDomain, Error, Explanation };

  Drop drop = Drop::None;  // Malformed: too short to answer; Response: QR set
  uint16_t qtype = 0;      // 0 when the question could not be read
  uint16_t rcode = 0;      // extended (12-bit) RCODE of the response
  bool truncated = false;
  bool ecs = false;        // the query carried a valid ECS option
  CookieStatus cookie = CookieStatus::None;  // Valid: the source address is proven
  Kind kind = Kind::Answer;
  // What identifies the response within its kind (canonical wire name): the query
  // name; for a wildcard answer the wildcard, for a referral the zone cut, for
  // NXDOMAIN the zone, so that random names cost one account, not one each.
  char key_name[255];
  uint8_t key_name_length = 0;

  std::string_view key() const { return {key_name, key_name_length}; }
};

uint32_t system_unix_time();  // seconds since the epoch, for server cookies

struct ResponderOptions {
  std::string identity;             // CHAOS id.server / hostname.bind, NSID
  uint16_t max_udp_payload = 1232;  // our EDNS UDP payload size
  // DNS cookies (RFC 7873) are answered when a secret is given, else ignored.
  std::optional<CookieSecret> cookie_secret;
  uint32_t (*unix_time)() = system_unix_time;  // injected by tests
};

class Responder {
 public:
  Responder(const zones::ZoneSet& zones, const DynamicAnswers& dynamic, ResponderOptions options);

  // Writes the response into `out` (at least 512 bytes; 65535 for TCP) and returns its
  // length, or 0 when the message must be dropped (a response, or too short to answer).
  size_t respond(std::span<const uint8_t> query, const RequestInfo& info,
                 std::span<uint8_t> out, QueryOutcome* outcome = nullptr) const;

 private:
  const zones::ZoneSet& zones_;
  const DynamicAnswers& dynamic_;
  ResponderOptions options_;
};

}  // namespace geosteer::dns
