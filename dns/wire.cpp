#include "dns/wire.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace geosteer::dns::wire {

namespace {

constexpr uint16_t kTypeOpt = 41;
constexpr uint16_t kTypeTsig = qtype::Tsig;
// TSIG RDATA after the algorithm name, with an empty MAC and no other data: time
// signed (48 bits), fudge, MAC size, original ID, error, other length.
constexpr size_t kTsigFixedSize = 6 + 2 + 2 + 2 + 2 + 2;
constexpr uint8_t kPointerBits = 0xC0;
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kRrFixedSize = 10;  // TYPE, CLASS, TTL, RDLENGTH

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Bounds-checked big-endian reader over the received message.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  size_t position() const { return position_; }
  size_t remaining() const { return data_.size() - position_; }
  std::span<const uint8_t> data() const { return data_; }

  bool read_u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[position_++];
    return true;
  }
  bool read_u16(uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<uint16_t>(data_[position_] << 8 | data_[position_ + 1]);
    position_ += 2;
    return true;
  }
  bool read_u32(uint32_t& v) {
    uint16_t high = 0, low = 0;
    if (remaining() < 4) return false;
    read_u16(high);
    read_u16(low);
    v = static_cast<uint32_t>(high) << 16 | low;
    return true;
  }
  bool skip(size_t bytes) {
    if (remaining() < bytes) return false;
    position_ += bytes;
    return true;
  }

  // Reads a possibly compressed name into `out` (uncompressed wire form). Every
  // pointer must jump strictly before all bytes of the name read so far, which
  // rules out loops and forward references (RFC 1035 section 4.1.4 only allows
  // pointers to a prior occurrence), and never into the header.
  bool read_name(char* out, size_t& length) {
    size_t cursor = position_;
    size_t lowest_read = position_;
    bool jumped = false;
    length = 0;
    for (;;) {
      if (cursor >= data_.size()) return false;
      uint8_t label = data_[cursor];
      if ((label & kPointerBits) == kPointerBits) {
        if (cursor + 1 >= data_.size()) return false;
        size_t target = static_cast<size_t>(label & ~kPointerBits) << 8 | data_[cursor + 1];
        if (target < kHeaderSize || target >= lowest_read) return false;
        if (!jumped) position_ = cursor + 2;
        jumped = true;
        cursor = lowest_read = target;
        continue;
      }
      // 0x40 and 0x80 are the retired extended label types (RFC 6891 section 5).
      if (label & kPointerBits || label > kMaxLabelLength) return false;
      if (length + label + 1 > kMaxNameLength || cursor + label >= data_.size()) return false;
      std::memcpy(out + length, &data_[cursor], label + 1u);
      length += label + 1u;
      cursor += label + 1u;
      if (label == 0) break;
    }
    if (!jumped) position_ = cursor;
    return true;
  }

  // Reads a name that must not be compressed, such as a TSIG algorithm name
  // (RFC 8945 section 4.2), into `out`.
  bool read_uncompressed_name(char* out, size_t& length) {
    length = 0;
    for (;;) {
      uint8_t label = 0;
      if (!read_u8(label) || label > kMaxLabelLength) return false;
      if (length + label + 1 > kMaxNameLength || remaining() < label) return false;
      out[length] = static_cast<char>(label);
      std::memcpy(out + length + 1, &data_[position_], label);
      position_ += label;
      length += label + 1u;
      if (label == 0) return true;
    }
  }

 private:
  std::span<const uint8_t> data_;
  size_t position_ = 0;
};

struct RrFields {
  char owner[kMaxNameLength];
  size_t owner_length = 0;
  uint16_t type = 0, rclass = 0, rdlength = 0;
  uint32_t ttl = 0;
  std::span<const uint8_t> rdata;
};

bool read_rr(Reader& reader, RrFields& rr) {
  if (!reader.read_name(rr.owner, rr.owner_length)) return false;
  if (!reader.read_u16(rr.type) || !reader.read_u16(rr.rclass) || !reader.read_u32(rr.ttl) ||
      !reader.read_u16(rr.rdlength)) {
    return false;
  }
  size_t start = reader.position();
  if (!reader.skip(rr.rdlength)) return false;
  rr.rdata = reader.data().subspan(start, rr.rdlength);
  return true;
}

bool read_header(Reader& reader, Header& header) {
  return reader.read_u16(header.id) && reader.read_u16(header.flags) &&
         reader.read_u16(header.qdcount) && reader.read_u16(header.ancount) &&
         reader.read_u16(header.nscount) && reader.read_u16(header.arcount);
}

bool read_question(Reader& reader, Question& question) {
  size_t length = 0;
  if (!reader.read_name(question.name, length)) return false;
  if (!reader.read_u16(question.qtype) || !reader.read_u16(question.qclass)) return false;
  question.name_length = static_cast<uint8_t>(length);
  std::transform(question.name, question.name + length, question.canonical, to_lower);
  return true;
}

// RFC 7871 section 6: a known FAMILY, SOURCE PREFIX-LENGTH within the family,
// SCOPE PREFIX-LENGTH 0 in queries, exactly ceil(SOURCE/8) ADDRESS octets and
// no bit set past SOURCE; otherwise the server answers FORMERR.
bool parse_client_subnet(std::span<const uint8_t> data, ClientSubnetOption& ecs) {
  if (data.size() < 4) return false;
  uint16_t family = static_cast<uint16_t>(data[0] << 8 | data[1]);
  uint8_t source = data[2];
  uint8_t scope = data[3];
  std::span<const uint8_t> address = data.subspan(4);
  unsigned max_prefix = family == ecs_family::Ipv4 ? 32 : family == ecs_family::Ipv6 ? 128 : 0;
  if (max_prefix == 0 || source > max_prefix || scope != 0) return false;
  if (address.size() != (source + 7u) / 8u) return false;
  if (source % 8 != 0 && (address.back() & (0xFF >> (source % 8))) != 0) return false;
  ecs.present = true;
  ecs.family = family;
  ecs.source_prefix = source;
  ecs.scope_prefix = scope;
  ecs.address_length = static_cast<uint8_t>(address.size());
  std::copy(address.begin(), address.end(), ecs.address);
  return true;
}

// RFC 7873 section 5.2.2: an option too short for a client cookie, longer than a
// client and the largest server cookie, or with a server cookie shorter than 8
// octets is malformed, and the server answers FORMERR.
bool parse_cookie(std::span<const uint8_t> data, CookieOption& cookie) {
  constexpr size_t kClient = CookieOption::kClientSize;
  if (data.size() < kClient || data.size() > kClient + CookieOption::kMaxServerSize) return false;
  if (data.size() > kClient && data.size() < kClient + 8) return false;
  cookie.present = true;
  std::copy(data.begin(), data.begin() + kClient, cookie.client);
  std::copy(data.begin() + kClient, data.end(), cookie.server);
  cookie.server_length = static_cast<uint8_t>(data.size() - kClient);
  return true;
}

// Walks the options of a version 0 OPT RR (RFC 6891 section 6.1.2); unknown
// options are ignored (section 6.1.2: "MUST be ignored").
bool parse_edns_options(std::span<const uint8_t> rdata, Query& query) {
  Reader reader(rdata);
  Edns& edns = query.edns;
  while (reader.remaining() > 0) {
    uint16_t code = 0, length = 0;
    if (!reader.read_u16(code) || !reader.read_u16(length)) return false;
    size_t start = reader.position();
    if (!reader.skip(length)) return false;
    std::span<const uint8_t> data = rdata.subspan(start, length);
    if (code == edns_option::Nsid) {
      edns.nsid_requested = true;  // RFC 5001 section 2.1: the payload is ignored
    } else if (code == edns_option::TcpKeepalive) {
      // Judged by the responder: what is wrong over TCP is ignored over UDP.
      edns.tcp_keepalive = true;
      edns.tcp_keepalive_with_timeout = edns.tcp_keepalive_with_timeout || length != 0;
    } else if (code == edns_option::ClientSubnet) {
      // Two ECS options would leave the client ambiguous; treat it like a bad one.
      if (edns.client_subnet.present || !parse_client_subnet(data, edns.client_subnet)) {
        edns.client_subnet = {};
        query.client_subnet_malformed = true;
        return false;
      }
    } else if (code == edns_option::Cookie) {
      // Two cookies would leave the one to answer ambiguous, as with ECS.
      if (edns.cookie.present || !parse_cookie(data, edns.cookie)) {
        edns.cookie = {};
        query.cookie_malformed = true;
        return false;
      }
    }
  }
  return true;
}

// RFC 6891 section 6.1.1: one OPT RR at most, owned by the root.
bool parse_opt(const RrFields& rr, Query& query) {
  if (query.edns.present || rr.owner_length != 1) {
    query.edns = {};
    return false;
  }
  Edns& edns = query.edns;
  edns.udp_payload = rr.rclass;
  edns.extended_rcode = static_cast<uint8_t>(rr.ttl >> 24);
  edns.version = static_cast<uint8_t>(rr.ttl >> 16);
  edns.dnssec_ok = rr.ttl & 0x8000;
  // Options of a version we do not speak are not ours to judge: BADVERS follows.
  bool options_ok = edns.version != 0 || parse_edns_options(rr.rdata, query);
  // The OPT RR itself stays valid (and is echoed) when only the ECS or the cookie
  // was bad.
  edns.present = options_ok || query.client_subnet_malformed || query.cookie_malformed;
  return options_ok;
}

// RFC 8945 section 4.2: CLASS ANY, TTL 0, and RDATA that holds exactly an
// uncompressed algorithm name, the fixed fields, the MAC and the other data.
bool parse_tsig(const RrFields& rr, TsigRecord& tsig) {
  if (rr.rclass != rrclass::Any || rr.ttl != 0) return false;
  Reader reader(rr.rdata);
  size_t algorithm_length = 0;
  uint16_t time_high = 0, mac_size = 0, error = 0, other_length = 0;
  uint32_t time_low = 0;
  bool ok = reader.read_uncompressed_name(tsig.algorithm, algorithm_length) &&
            reader.read_u16(time_high) && reader.read_u32(time_low) &&
            reader.read_u16(tsig.fudge) && reader.read_u16(mac_size) && reader.skip(mac_size) &&
            reader.read_u16(tsig.original_id) && reader.read_u16(error) &&
            reader.read_u16(other_length) && reader.skip(other_length) &&
            reader.remaining() == 0;
  if (!ok) return false;
  tsig.present = true;
  tsig.algorithm_length = static_cast<uint8_t>(algorithm_length);
  tsig.time_signed = static_cast<uint64_t>(time_high) << 32 | time_low;
  std::memcpy(tsig.key_name, rr.owner, rr.owner_length);
  tsig.key_name_length = static_cast<uint8_t>(rr.owner_length);
  return true;
}

// Answer and authority sections: a query carries nothing there, other opcodes
// (UPDATE) may; an OPT or TSIG RR is never allowed there.
bool skip_section(Reader& reader, uint16_t count, bool& malformed) {
  RrFields rr;
  for (uint16_t i = 0; i < count; ++i) {
    if (!read_rr(reader, rr)) return false;
    if (rr.type == kTypeOpt || rr.type == kTypeTsig) malformed = true;
  }
  return true;
}

bool parse_additional(Reader& reader, uint16_t count, Query& query, bool& malformed) {
  RrFields rr;
  for (uint16_t i = 0; i < count; ++i) {
    if (!read_rr(reader, rr)) return false;
    if (rr.type == kTypeOpt && !parse_opt(rr, query)) malformed = true;
    // RFC 8945 section 5.2: one TSIG RR, the last record of the message, or FORMERR.
    if (rr.type == kTypeTsig) {
      bool last = i + 1 == count;
      if (!last || query.tsig.present || !parse_tsig(rr, query.tsig)) {
        query.tsig = {};
        malformed = true;
      }
    }
  }
  return true;
}

bool parse_questions(Reader& reader, Query& query) {
  Question scratch;
  for (uint16_t i = 0; i < query.header.qdcount; ++i) {
    if (!read_question(reader, i == 0 ? query.question : scratch)) return false;
  }
  query.has_question = query.header.qdcount == 1;
  return true;
}

}  // namespace

ParseStatus parse_query(std::span<const uint8_t> message, Query& query) {
  Reader reader(message);
  if (!read_header(reader, query.header)) return ParseStatus::TooShort;
  if (query.header.qr()) return ParseStatus::Response;

  const Header& header = query.header;
  bool malformed = header.qdcount != 1;  // RFC 1035 allows more, nobody implements it
  if (header.opcode() == opcode::Query && (header.ancount != 0 || header.nscount != 0)) {
    malformed = true;
  }
  bool walked = parse_questions(reader, query) &&
                skip_section(reader, header.ancount, malformed) &&
                skip_section(reader, header.nscount, malformed) &&
                parse_additional(reader, header.arcount, query, malformed);
  if (!walked || malformed || reader.remaining() != 0) return ParseStatus::Malformed;
  return ParseStatus::Ok;
}

size_t truncate_to_question(std::span<uint8_t> message, size_t length) {
  if (length > message.size()) return 0;
  Reader reader(message.first(length));
  Header header;
  Question question;
  if (!read_header(reader, header) || header.qdcount != 1 || !read_question(reader, question)) {
    return 0;
  }
  size_t question_end = reader.position();
  RrFields rr;
  size_t opt_start = 0, opt_end = 0;
  unsigned records = header.ancount + header.nscount + header.arcount;
  for (unsigned i = 0; i < records; ++i) {
    size_t start = reader.position();
    if (!read_rr(reader, rr)) return 0;
    if (rr.type == kTypeOpt) {
      opt_start = start;
      opt_end = reader.position();
    }
  }
  // The OPT RR's owner is the root, never a compression pointer: it moves as is.
  std::memmove(&message[question_end], &message[opt_start], opt_end - opt_start);
  uint16_t flags = static_cast<uint16_t>(header.flags | flag::Tc);
  uint8_t counts[] = {static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags), 0, 1, 0, 0,
                      0, 0, 0, static_cast<uint8_t>(opt_end > opt_start ? 1 : 0)};
  std::memcpy(&message[2], counts, sizeof counts);
  return question_end + (opt_end - opt_start);
}

size_t unsigned_tsig_size(const TsigRecord& query_tsig) {
  return query_tsig.key_name_length + kRrFixedSize + query_tsig.algorithm_length +
         kTsigFixedSize;
}

size_t opt_record_size(std::span<const EdnsOption> options) {
  size_t size = 1 + kRrFixedSize;  // root owner
  for (const EdnsOption& option : options) size += 4 + option.data.size();
  return size;
}

ResponseWriter::ResponseWriter(std::span<uint8_t> buffer, size_t limit)
    : buffer_(buffer),
      limit_(std::min({limit, buffer.size(), kMaxTcpMessage})),
      full_limit_(limit_) {
  assert(buffer.size() >= kHeaderSize);
}

void ResponseWriter::release(size_t bytes) { limit_ = std::min(limit_ + bytes, full_limit_); }

void ResponseWriter::put_u16(uint16_t v) {
  put_u8(static_cast<uint8_t>(v >> 8));
  put_u8(static_cast<uint8_t>(v));
}

void ResponseWriter::put_u32(uint32_t v) {
  put_u16(static_cast<uint16_t>(v >> 16));
  put_u16(static_cast<uint16_t>(v));
}

void ResponseWriter::put_bytes(std::string_view bytes) {
  std::memcpy(&buffer_[position_], bytes.data(), bytes.size());
  position_ += bytes.size();
}

// True when the (possibly compressed) name written at `offset` equals `name`,
// ignoring ASCII case (RFC 4343). Names in the buffer are our own output, so
// their pointers are known to go backwards.
bool ResponseWriter::name_at_equals(size_t offset, std::string_view name) const {
  size_t i = 0;
  for (;;) {
    uint8_t label = buffer_[offset];
    if ((label & kPointerBits) == kPointerBits) {
      offset = static_cast<size_t>(label & ~kPointerBits) << 8 | buffer_[offset + 1];
      continue;
    }
    if (i >= name.size() || static_cast<uint8_t>(name[i]) != label) return false;
    if (label == 0) return true;
    for (size_t k = 1; k <= label; ++k) {
      if (to_lower(static_cast<char>(buffer_[offset + k])) != to_lower(name[i + k])) return false;
    }
    offset += label + 1u;
    i += label + 1u;
  }
}

// Finds the longest suffix of `name` already in the message. Returns the bytes
// the name needs: its uncompressed prefix plus a 2-byte pointer, or all of it.
size_t ResponseWriter::compressed_name_size(std::string_view name, size_t* suffix_start,
                                            uint16_t* target) const {
  for (size_t i = 0; i + 1 < name.size(); i += static_cast<uint8_t>(name[i]) + 1u) {
    std::string_view suffix = name.substr(i);
    for (size_t n = 0; n < name_count_; ++n) {
      if (name_at_equals(names_[n], suffix)) {
        *suffix_start = i;
        *target = names_[n];
        return i + 2;
      }
    }
  }
  *suffix_start = name.size();
  return name.size();
}

// Records where each label of a freshly written name starts, as pointer targets
// for later names (only offsets a 14-bit pointer can reach).
void ResponseWriter::remember_labels(size_t offset, std::string_view labels) {
  for (size_t i = 0; i < labels.size() && labels[i] != '\0';
       i += static_cast<uint8_t>(labels[i]) + 1u) {
    if (name_count_ == kMaxCompressionTargets || offset + i > 0x3FFF) return;
    names_[name_count_++] = static_cast<uint16_t>(offset + i);
  }
}

void ResponseWriter::put_name(std::string_view name) {
  size_t suffix_start = 0;
  uint16_t target = 0;
  compressed_name_size(name, &suffix_start, &target);
  size_t offset = position_;
  if (suffix_start == name.size()) {
    put_bytes(name);
    remember_labels(offset, name);
    return;
  }
  std::string_view prefix = name.substr(0, suffix_start);
  put_bytes(prefix);
  put_u16(static_cast<uint16_t>(0xC000 | target));
  remember_labels(offset, prefix);
}

bool ResponseWriter::add_question(std::string_view name, uint16_t qtype, uint16_t qclass) {
  if (!fits(name.size() + 4)) return false;
  // The question goes out as received, uncompressed: it echoes the query's case
  // (RFC 4343 section 4.1) and becomes the pointer target for the answers.
  size_t offset = position_;
  put_bytes(name);
  remember_labels(offset, name);
  put_u16(qtype);
  put_u16(qclass);
  ++counts_[0];
  return true;
}

bool ResponseWriter::add_rr(Section section, std::string_view owner, uint16_t type,
                            uint16_t rclass, uint32_t ttl, std::string_view rdata) {
  // Sections are written in message order; going back would corrupt the counts.
  assert(section >= section_);
  size_t suffix_start = 0;
  uint16_t target = 0;
  size_t owner_size = compressed_name_size(owner, &suffix_start, &target);
  if (rdata.size() > 0xFFFF || !fits(owner_size + kRrFixedSize + rdata.size())) return false;
  section_ = section;
  put_name(owner);
  put_u16(type);
  put_u16(rclass);
  put_u32(ttl);
  put_u16(static_cast<uint16_t>(rdata.size()));
  put_bytes(rdata);
  ++counts_[1 + static_cast<size_t>(section)];
  return true;
}

bool ResponseWriter::add_opt(uint16_t udp_payload, uint8_t extended_rcode, bool dnssec_ok,
                             std::span<const EdnsOption> options) {
  size_t size = opt_record_size(options);
  if (size - 1 - kRrFixedSize > 0xFFFF || !fits(size)) return false;
  section_ = Section::Additional;
  put_u8(0);  // root owner
  put_u16(kTypeOpt);
  put_u16(udp_payload);
  put_u8(extended_rcode);
  put_u8(0);  // version 0: the only one we implement
  put_u16(dnssec_ok ? 0x8000 : 0);
  put_u16(static_cast<uint16_t>(size - 1 - kRrFixedSize));
  for (const EdnsOption& option : options) {
    put_u16(option.code);
    put_u16(static_cast<uint16_t>(option.data.size()));
    put_bytes({reinterpret_cast<const char*>(option.data.data()), option.data.size()});
  }
  ++counts_[3];
  return true;
}

bool ResponseWriter::add_unsigned_tsig(const TsigRecord& query_tsig, uint16_t error) {
  if (!fits(unsigned_tsig_size(query_tsig))) return false;
  section_ = Section::Additional;
  // Neither name is compressed: the algorithm name must not be (RFC 8945 section
  // 4.2), and a verifier digests the key name in canonical form anyway.
  put_bytes(query_tsig.key());
  put_u16(kTypeTsig);
  put_u16(rrclass::Any);
  put_u32(0);
  put_u16(static_cast<uint16_t>(query_tsig.algorithm_length + kTsigFixedSize));
  put_bytes(query_tsig.algorithm_name());
  // Time signed and fudge echo the client's: only BADTIME carries the server's
  // clock (RFC 8945 section 5.2.3), and with no key there is nothing to time.
  put_u16(static_cast<uint16_t>(query_tsig.time_signed >> 32));
  put_u32(static_cast<uint32_t>(query_tsig.time_signed));
  put_u16(query_tsig.fudge);
  put_u16(0);  // MAC size: an error about the key is never signed
  put_u16(query_tsig.original_id);
  put_u16(error);
  put_u16(0);  // other length
  ++counts_[3];
  return true;
}

ResponseWriter::Mark ResponseWriter::mark() const {
  Mark m;
  m.position = position_;
  std::copy(std::begin(counts_), std::end(counts_), m.counts);
  m.names = name_count_;
  m.section = section_;
  return m;
}

void ResponseWriter::rollback(const Mark& m) {
  position_ = m.position;
  std::copy(std::begin(m.counts), std::end(m.counts), counts_);
  name_count_ = m.names;
  section_ = m.section;
}

size_t ResponseWriter::finish() {
  size_t saved = position_;
  position_ = 0;
  put_u16(id_);
  put_u16(flags_);
  for (uint16_t count : counts_) put_u16(count);
  position_ = saved;
  return position_;
}

}  // namespace geosteer::dns::wire
