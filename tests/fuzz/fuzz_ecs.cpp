// libFuzzer target for the EDNS Client Subnet option (RFC 7871): the input is the
// option's data, sent in a well-formed query for the steered name (and for a static
// one). Every option must give FORMERR or an answer, never a crash, and an answer's
// ECS option must echo the family, source prefix and address and carry a scope no
// longer than the family's address.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/fuzz/fuzz_zone.h"

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

Bytes query_with_ecs(const std::string& qname, const uint8_t* data, size_t size) {
  Bytes q = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
  q.insert(q.end(), qname.begin(), qname.end());
  put16(q, 1);  // A
  put16(q, 1);  // IN
  q.push_back(0);  // OPT owner: root
  put16(q, 41);
  put16(q, 1232);
  q.insert(q.end(), {0, 0, 0, 0});
  put16(q, size + 4);
  put16(q, 8);  // CLIENT-SUBNET
  put16(q, size);
  q.insert(q.end(), data, data + size);
  return q;
}

// The response's ECS option, when it has one, must repeat FAMILY, SOURCE PREFIX and
// ADDRESS of the query's (RFC 7871 section 7.2.1) with a SCOPE the family can hold.
void check_echo(std::span<const uint8_t> sent, std::span<const uint8_t> response) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, response.data(), response.size()) != LDNS_STATUS_OK) std::abort();
  const ldns_rdf* options = ldns_pkt_edns_data(pkt);
  size_t length = options ? ldns_rdf_size(options) : 0;
  const uint8_t* at = options ? ldns_rdf_data(options) : nullptr;
  for (size_t i = 0; i + 4 <= length;) {
    size_t code = (at[i] << 8) | at[i + 1], option_length = (at[i + 2] << 8) | at[i + 3];
    const uint8_t* option = at + i + 4;
    i += 4 + option_length;
    if (code != 8) continue;
    if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_FORMERR) std::abort();  // never echo a bad one
    if (option_length != sent.size() || option_length < 4) std::abort();
    if (std::memcmp(option, sent.data(), 3) != 0) std::abort();  // family, source
    if (std::memcmp(option + 4, sent.data() + 4, option_length - 4) != 0) std::abort();
    unsigned family = (option[0] << 8) | option[1];
    if (option[3] > (family == 1 ? 32 : 128)) std::abort();
  }
  ldns_pkt_free(pkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;  // an option longer than any ECS option is one more FORMERR
  for (const char* name : {"mirror.example.org.", "ns1.example.org."}) {
    Bytes query = query_with_ecs(geosteer::fuzz::name(name), data, size);
    geosteer::fuzz::respond_and_check(query);
    static std::array<uint8_t, 65535> out;
    geosteer::dns::RequestInfo info{geosteer::dns::Transport::Udp, geosteer::IpAddress::v4({203, 0, 113, 7})};
    size_t length = geosteer::fuzz::responder().respond(query, info, out);
    if (length > 0) check_echo({data, size}, {out.data(), length});
  }
  return 0;
}
