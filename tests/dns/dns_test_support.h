// Test helpers for the DNS layer: queries built byte by byte (so that malformed
// ones can be built too) and responses decoded by ldns, an independent parser.
#pragma once

// stdbool.h first: without __bool_true_false_are_defined, ldns/common.h may
// #define bool, which breaks any C++ header included after it (seen with clang).
#include <stdbool.h>

#include <ldns/ldns.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geosteer::dns::test {

using Bytes = std::vector<uint8_t>;

inline void append_u16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

inline void append_u32(Bytes& out, uint32_t v) {
  append_u16(out, static_cast<uint16_t>(v >> 16));
  append_u16(out, static_cast<uint16_t>(v));
}

// "Www.Example.ORG." to wire form, keeping the case as written.
inline Bytes wire_name(std::string_view text) {
  Bytes out;
  while (!text.empty() && text != ".") {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    text.remove_prefix(dot == std::string_view::npos ? text.size() : dot + 1);
  }
  out.push_back(0);
  return out;
}

struct EdnsOptionSpec {
  uint16_t code = 0;
  Bytes data;
};

struct EdnsSpec {
  uint16_t payload = 1232;
  uint8_t version = 0;
  bool dnssec_ok = false;
  std::vector<EdnsOptionSpec> options;
};

inline EdnsOptionSpec ecs_option(uint16_t family, uint8_t source, uint8_t scope, Bytes address) {
  EdnsOptionSpec option{8, {}};
  append_u16(option.data, family);
  option.data.push_back(source);
  option.data.push_back(scope);
  option.data.insert(option.data.end(), address.begin(), address.end());
  return option;
}

inline EdnsOptionSpec nsid_option() { return {3, {}}; }
// RFC 7828 edns-tcp-keepalive as a client sends it: no TIMEOUT.
inline EdnsOptionSpec keepalive_option(Bytes timeout = {}) { return {11, std::move(timeout)}; }

inline void append_opt(Bytes& out, const EdnsSpec& edns) {
  out.push_back(0);  // root owner
  append_u16(out, 41);
  append_u16(out, edns.payload);
  append_u32(out, static_cast<uint32_t>(edns.version) << 16 | (edns.dnssec_ok ? 0x8000u : 0u));
  Bytes rdata;
  for (const EdnsOptionSpec& option : edns.options) {
    append_u16(rdata, option.code);
    append_u16(rdata, static_cast<uint16_t>(option.data.size()));
    rdata.insert(rdata.end(), option.data.begin(), option.data.end());
  }
  append_u16(out, static_cast<uint16_t>(rdata.size()));
  out.insert(out.end(), rdata.begin(), rdata.end());
}

struct QuerySpec {
  std::string qname = "www.example.org.";
  uint16_t qtype = 1;
  uint16_t qclass = 1;
  uint16_t id = 0x1234;
  uint8_t opcode = 0;
  bool rd = true;
  std::optional<EdnsSpec> edns;
};

inline void append_header(Bytes& out, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                          uint16_t ns, uint16_t ar) {
  for (uint16_t v : {id, flags, qd, an, ns, ar}) append_u16(out, v);
}

inline Bytes make_query(const QuerySpec& spec) {
  Bytes out;
  uint16_t flags = static_cast<uint16_t>(spec.opcode << 11 | (spec.rd ? 0x0100 : 0));
  append_header(out, spec.id, flags, 1, 0, 0, spec.edns ? 1 : 0);
  Bytes name = wire_name(spec.qname);
  out.insert(out.end(), name.begin(), name.end());
  append_u16(out, spec.qtype);
  append_u16(out, spec.qclass);
  if (spec.edns) append_opt(out, *spec.edns);
  return out;
}

struct PacketDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;

// nullptr when ldns cannot parse the response: the test then fails on it.
inline Packet decode(std::span<const uint8_t> wire) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
  return Packet(pkt);
}

// One RR in presentation form with single spaces: "www.example.org. 300 IN A 192.0.2.1".
inline std::string rr_text(const ldns_rr* rr) {
  char* raw = ldns_rr2str(rr);
  std::string text(raw);
  LDNS_FREE(raw);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\t') c = ' ';
  }
  return text;
}

inline std::vector<std::string> rr_texts(const ldns_rr_list* list) {
  std::vector<std::string> out;
  for (size_t i = 0; list != nullptr && i < ldns_rr_list_rr_count(list); ++i) {
    out.push_back(rr_text(ldns_rr_list_rr(list, i)));
  }
  return out;
}

inline std::vector<std::string> answer(const Packet& p) { return rr_texts(ldns_pkt_answer(p.get())); }
inline std::vector<std::string> authority(const Packet& p) {
  return rr_texts(ldns_pkt_authority(p.get()));
}
inline std::vector<std::string> additional(const Packet& p) {
  return rr_texts(ldns_pkt_additional(p.get()));
}

inline std::string owner_text(const ldns_rr* rr) {
  char* raw = ldns_rdf2str(ldns_rr_owner(rr));
  std::string text(raw);
  LDNS_FREE(raw);
  return text;
}

inline std::string question_name(const Packet& p) {
  const ldns_rr_list* question = ldns_pkt_question(p.get());
  if (question == nullptr || ldns_rr_list_rr_count(question) == 0) return "";
  return owner_text(ldns_rr_list_rr(question, 0));
}

// The data of the EDNS option `code` in the response, nullopt when absent.
inline std::optional<Bytes> edns_option(const Packet& p, uint16_t code) {
  ldns_edns_option_list* list = ldns_pkt_edns_get_option_list(p.get());
  for (size_t i = 0; list != nullptr && i < ldns_edns_option_list_get_count(list); ++i) {
    ldns_edns_option* option = ldns_edns_option_list_get_option(list, i);
    if (ldns_edns_get_code(option) != code) continue;
    const uint8_t* data = ldns_edns_get_data(option);
    return Bytes(data, data + ldns_edns_get_size(option));
  }
  return std::nullopt;
}

}  // namespace geosteer::dns::test
