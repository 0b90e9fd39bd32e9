// DNS message codec for the query path (RFC 1035 section 4, RFC 6891, RFC 7871),
// in the spirit of libknot's wire helpers: plain structs, explicit bounds checks,
// no allocation. Names are handled as char sequences in uncompressed wire form so
// that they compare directly with the zone data (common/dname.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace geosteer::dns::wire {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxNameLength = 255;  // RFC 1035 section 3.1, including the root label
constexpr size_t kMinUdpPayload = 512;  // RFC 1035 section 4.2.1, RFC 6891 section 6.2.5
constexpr size_t kMaxTcpMessage = 65535;

namespace rcode {
constexpr uint16_t NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4,
                   Refused = 5, NotAuth = 9, BadVers = 16;
}
// The ERROR field of a TSIG RR (RFC 8945 section 3).
namespace tsig_error {
constexpr uint16_t BadKey = 17;
}
namespace opcode {
constexpr uint8_t Query = 0, Notify = 4, Update = 5;
}
namespace rrclass {
constexpr uint16_t In = 1, Ch = 3, Any = 255;
}
namespace qtype {
constexpr uint16_t Tkey = 249, Tsig = 250, Ixfr = 251, Axfr = 252, Mailb = 253, Maila = 254;
}
namespace edns_option {
constexpr uint16_t Nsid = 3, ClientSubnet = 8, Cookie = 10, TcpKeepalive = 11;
}
namespace ecs_family {
constexpr uint16_t Ipv4 = 1, Ipv6 = 2;
}

// Header flag bits as they sit in the second 16-bit word (RFC 1035 section 4.1.1).
namespace flag {
constexpr uint16_t Qr = 0x8000, Aa = 0x0400, Tc = 0x0200, Rd = 0x0100, Ra = 0x0080,
                   Ad = 0x0020, Cd = 0x0010;
}

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool qr() const { return flags & flag::Qr; }
  uint8_t opcode() const { return (flags >> 11) & 0x0F; }
  bool rd() const { return flags & flag::Rd; }
  bool cd() const { return flags & flag::Cd; }
};

// The name buffers below are left uninitialised: every query parses into a fresh
// Query, and zeroing 1.5 KB there on each one would be work for nothing, since only
// the first `..._length` bytes are ever read.
struct Question {
  char name[kMaxNameLength];       // as received, original case, decompressed
  char canonical[kMaxNameLength];  // lower-cased copy, for lookups
  uint8_t name_length = 0;              // bytes in both, root label included
  uint16_t qtype = 0;
  uint16_t qclass = 0;

  std::string_view received_name() const { return {name, name_length}; }
  std::string_view canonical_name() const { return {canonical, name_length}; }
};

// EDNS Client Subnet option (RFC 7871 section 6), kept exactly as received.
struct ClientSubnetOption {
  bool present = false;
  uint16_t family = 0;  // ecs_family::Ipv4 or Ipv6
  uint8_t source_prefix = 0;
  uint8_t scope_prefix = 0;
  uint8_t address[16] = {};
  uint8_t address_length = 0;  // ceil(source_prefix / 8)
};

// DNS COOKIE option (RFC 7873 section 4), kept as received: a client cookie of 8
// octets, and a server cookie of 8 to 32 octets when the client had one from us.
struct CookieOption {
  static constexpr size_t kClientSize = 8;
  static constexpr size_t kMaxServerSize = 32;
  bool present = false;
  uint8_t client[kClientSize] = {};
  uint8_t server[kMaxServerSize] = {};
  uint8_t server_length = 0;  // 0, or 8..32
};

struct Edns {
  bool present = false;  // one well-formed OPT RR was in the additional section
  uint16_t udp_payload = 0;
  uint8_t extended_rcode = 0;
  uint8_t version = 0;
  bool dnssec_ok = false;
  bool nsid_requested = false;
  // RFC 7828: the query carried an edns-tcp-keepalive option; with a TIMEOUT (an
  // OPTION-LENGTH other than 0) when it came with a value clients must not send.
  bool tcp_keepalive = false;
  bool tcp_keepalive_with_timeout = false;
  ClientSubnetOption client_subnet;
  CookieOption cookie;
};

// The TSIG RR of a query (RFC 8945 section 4.2), as much of it as an unsigned
// error response echoes: we hold no keys, so every key is unknown to us.
struct TsigRecord {
  bool present = false;  // one well-formed TSIG RR, the last of the message
  char key_name[kMaxNameLength];  // the owner, uncompressed wire form
  uint8_t key_name_length = 0;
  char algorithm[kMaxNameLength];  // uncompressed wire form
  uint8_t algorithm_length = 0;
  uint64_t time_signed = 0;  // 48 bits, seconds since the epoch
  uint16_t fudge = 0;
  uint16_t original_id = 0;

  std::string_view key() const { return {key_name, key_name_length}; }
  std::string_view algorithm_name() const { return {algorithm, algorithm_length}; }
};

enum class ParseStatus {
  Ok,
  TooShort,   // not even a header: drop
  Response,   // QR=1: never answer a response (RFC 1035 section 4.1.1), drop
  Malformed,  // answer FORMERR
};

struct Query {
  Header header;
  bool has_question = false;  // exactly one question, parsed into `question`
  Question question;
  Edns edns;
  TsigRecord tsig;
  bool client_subnet_malformed = false;  // the FORMERR comes from the ECS option itself
  bool cookie_malformed = false;         // the FORMERR comes from the COOKIE option itself
};

// Parses a query message. Everything parsed before a malformation stays filled in
// so that a FORMERR response can still echo the question and the OPT RR.
ParseStatus parse_query(std::span<const uint8_t> message, Query& query);

// Cuts one of our responses down to its question and OPT RR, with TC set: the
// empty truncated reply that tells a client to ask again over TCP (RFC 7766
// section 6.2; the "slip" of response rate limiting). The OPT RR stays, as a
// response to an EDNS query carries one (RFC 6891 section 7). Returns the new
// length, or 0 when `message` cannot be read as a response with one question.
size_t truncate_to_question(std::span<uint8_t> message, size_t length);

struct EdnsOption {
  uint16_t code = 0;
  std::span<const uint8_t> data;
};

// Wire size of an OPT RR carrying `options`.
size_t opt_record_size(std::span<const EdnsOption> options);
// Wire size, uncompressed, of the RR add_unsigned_tsig() writes for `query_tsig`.
size_t unsigned_tsig_size(const TsigRecord& query_tsig);

enum class Section : uint8_t { Answer, Authority, Additional };

// Writes a response into a caller-supplied buffer, never past `limit` bytes.
// Every add_* either writes the whole item or nothing and returns false, so a
// caller can try an item and fall back (set TC, drop additional data).
class ResponseWriter {
 public:
  // `limit` is the largest message the transport allows; clamped to the buffer.
  ResponseWriter(std::span<uint8_t> buffer, size_t limit);

  void set_id(uint16_t id) { id_ = id; }
  void set_flags(uint16_t flags) { flags_ = flags; }
  uint16_t flags() const { return flags_; }

  bool add_question(std::string_view name, uint16_t qtype, uint16_t qclass);
  // The owner is compressed against names already written (case-insensitively);
  // RDATA is copied verbatim, never compressed (always correct, RFC 3597 section 4).
  bool add_rr(Section section, std::string_view owner, uint16_t type, uint16_t rclass,
              uint32_t ttl, std::string_view rdata);
  // RFC 6891 section 6.1.2/6.1.3: CLASS is the payload size, TTL holds the upper
  // eight bits of the extended RCODE, the version and the DO bit.
  bool add_opt(uint16_t udp_payload, uint8_t extended_rcode, bool dnssec_ok,
               std::span<const EdnsOption> options);
  // RFC 8945 section 5.3.2: the unsigned TSIG RR of an error response (MAC size 0)
  // to a query signed with `query_tsig`, carrying `error`. Always the last RR.
  bool add_unsigned_tsig(const TsigRecord& query_tsig, uint16_t error);

  // Keeps `bytes` free at the end (for the OPT RR, which must always fit).
  void reserve(size_t bytes) { limit_ -= bytes < limit_ ? bytes : limit_; }
  void release(size_t bytes);

  struct Mark {
    size_t position = 0;
    uint16_t counts[4] = {};
    size_t names = 0;
    Section section = Section::Answer;
  };
  Mark mark() const;
  void rollback(const Mark& mark);

  size_t size() const { return position_; }
  // Writes the header (id, flags, counts) and returns the message length.
  size_t finish();

 private:
  static constexpr size_t kMaxCompressionTargets = 64;

  bool fits(size_t bytes) const { return position_ + bytes <= limit_; }
  void put_u8(uint8_t v) { buffer_[position_++] = v; }
  void put_u16(uint16_t v);
  void put_u32(uint32_t v);
  void put_bytes(std::string_view bytes);
  size_t compressed_name_size(std::string_view name, size_t* suffix_start,
                              uint16_t* target) const;
  void put_name(std::string_view name);
  bool name_at_equals(size_t offset, std::string_view name) const;
  void remember_labels(size_t offset, std::string_view labels);

  std::span<uint8_t> buffer_;
  size_t limit_;
  size_t full_limit_;
  size_t position_ = kHeaderSize;
  uint16_t id_ = 0;
  uint16_t flags_ = 0;
  uint16_t counts_[4] = {};  // question, answer, authority, additional
  Section section_ = Section::Answer;
  uint16_t names_[kMaxCompressionTargets] = {};
  size_t name_count_ = 0;
};

}  // namespace geosteer::dns::wire
