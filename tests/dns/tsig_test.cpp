// TSIG (RFC 8945) in the responder. geosteer holds no keys, so a signed query can
// only name a key it does not know: NOTAUTH with an unsigned TSIG RR carrying
// BADKEY. A TSIG RR out of place, twice, or malformed gets FORMERR. Signed queries
// come from ldns, an independent implementation; malformed ones are built by hand.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "dns/responder.h"
#include "dns/wire.h"
#include "tests/dns/dns_test_support.h"
#include "tests/dns/example_zone.h"

namespace geosteer::dns {
namespace {

using test::Bytes;
using test::Packet;

constexpr uint16_t kQueryId = 0x4a11;
constexpr uint16_t kFudge = 300;
constexpr uint16_t kClassAny = 255;
constexpr uint16_t kTypeTsig = 250;

// The fields of a hand-built TSIG RR; the defaults make a well-formed one.
struct TsigSpec {
  Bytes owner = test::wire_name("transfer-key.");
  uint16_t rclass = kClassAny;
  uint32_t ttl = 0;
  Bytes algorithm = test::wire_name("hmac-sha256.");
  uint64_t time_signed = 1764547200;
  uint16_t fudge = kFudge;
  Bytes mac = Bytes(32, 0xAB);
  uint16_t original_id = kQueryId;
  Bytes other;
  Bytes trailing;  // bytes after the other data, inside RDATA
};

void append_tsig(Bytes& out, const TsigSpec& spec) {
  out.insert(out.end(), spec.owner.begin(), spec.owner.end());
  test::append_u16(out, kTypeTsig);
  test::append_u16(out, spec.rclass);
  test::append_u32(out, spec.ttl);
  Bytes rdata = spec.algorithm;
  test::append_u16(rdata, static_cast<uint16_t>(spec.time_signed >> 32));
  test::append_u32(rdata, static_cast<uint32_t>(spec.time_signed));
  test::append_u16(rdata, spec.fudge);
  test::append_u16(rdata, static_cast<uint16_t>(spec.mac.size()));
  rdata.insert(rdata.end(), spec.mac.begin(), spec.mac.end());
  test::append_u16(rdata, spec.original_id);
  test::append_u16(rdata, 0);  // error
  test::append_u16(rdata, static_cast<uint16_t>(spec.other.size()));
  rdata.insert(rdata.end(), spec.other.begin(), spec.other.end());
  rdata.insert(rdata.end(), spec.trailing.begin(), spec.trailing.end());
  test::append_u16(out, static_cast<uint16_t>(rdata.size()));
  out.insert(out.end(), rdata.begin(), rdata.end());
}

// A query for www.example.org. A with the given additional records after the
// question, in order; `counts` are ANCOUNT, NSCOUNT and ARCOUNT.
Bytes query_with(uint8_t opcode, std::array<uint16_t, 3> counts, const Bytes& records) {
  Bytes out;
  test::append_header(out, kQueryId, static_cast<uint16_t>(opcode << 11 | 0x0100), 1, counts[0],
                      counts[1], counts[2]);
  Bytes name = test::wire_name("www.example.org.");
  out.insert(out.end(), name.begin(), name.end());
  test::append_u16(out, 1);
  test::append_u16(out, 1);
  out.insert(out.end(), records.begin(), records.end());
  return out;
}

Bytes tsig_record(const TsigSpec& spec = {}) {
  Bytes out;
  append_tsig(out, spec);
  return out;
}

Bytes opt_record() {
  Bytes out;
  test::append_opt(out, test::EdnsSpec{});
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A query signed by ldns with a key we do not have.
Bytes ldns_signed_query(const std::string& qname, bool edns) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&pkt, qname.c_str(), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
                                       LDNS_RD),
            LDNS_STATUS_OK);
  ldns_pkt_set_id(pkt, kQueryId);
  if (edns) ldns_pkt_set_edns_udp_size(pkt, 1232);
  EXPECT_EQ(ldns_pkt_tsig_sign(pkt, "transfer-key.", "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==",
                               kFudge, "hmac-sha256.", nullptr),
            LDNS_STATUS_OK);
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
  Bytes out(wire, wire + size);
  LDNS_FREE(wire);
  ldns_pkt_free(pkt);
  return out;
}

// RDATA field `index` of the response's TSIG RR, as ldns prints it (without the
// trailing space ldns puts after a time).
std::string tsig_field(const Packet& p, size_t index) {
  const ldns_rr* tsig = ldns_pkt_tsig(p.get());
  if (tsig == nullptr || index >= ldns_rr_rd_count(tsig)) return "<none>";
  char* raw = ldns_rdf2str(ldns_rr_rdf(tsig, index));
  std::string text(raw);
  LDNS_FREE(raw);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

class TsigTest : public ::testing::Test {
 protected:
  Packet ask(const Bytes& query) {
    RequestInfo info{Transport::Udp, IpAddress::v4({203, 0, 113, 7})};
    length = responder.respond(query, info, buffer, &outcome);
    if (length == 0) return nullptr;
    return test::decode({buffer.data(), length});
  }
  size_t response_size() const { return length; }

  static ldns_pkt_rcode rcode(const Packet& p) { return ldns_pkt_get_rcode(p.get()); }

  test::ExampleOrgResponder example;
  const Responder& responder = example.responder;
  std::array<uint8_t, 65535> buffer{};
  size_t length = 0;
  QueryOutcome outcome;
};

TEST_F(TsigTest, AQuerySignedWithAnUnknownKeyIsNotAuthWithBadKey) {
  Packet p = ask(ldns_signed_query("www.example.org.", false));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(static_cast<int>(rcode(p)), 9);  // NOTAUTH
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::question_name(p), "www.example.org.");
  ASSERT_NE(ldns_pkt_tsig(p.get()), nullptr);
  EXPECT_EQ(tsig_field(p, 5), "17");  // BADKEY
}

TEST_F(TsigTest, TheBadKeyReplyNamesTheQuerysKeyAndAlgorithm) {
  Packet p = ask(ldns_signed_query("www.example.org.", false));
  ASSERT_NE(p, nullptr);
  ASSERT_NE(ldns_pkt_tsig(p.get()), nullptr);
  EXPECT_EQ(test::owner_text(ldns_pkt_tsig(p.get())), "transfer-key.");
  EXPECT_EQ(tsig_field(p, 0), "hmac-sha256.");
  EXPECT_EQ(ldns_rr_get_class(ldns_pkt_tsig(p.get())), LDNS_RR_CLASS_ANY);
  EXPECT_EQ(ldns_rr_ttl(ldns_pkt_tsig(p.get())), 0u);
}

TEST_F(TsigTest, TheBadKeyReplyIsUnsigned) {
  Packet p = ask(ldns_signed_query("www.example.org.", false));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(tsig_field(p, 3), "0");  // MAC size 0, no MAC (ldns prints the length first)
}

TEST_F(TsigTest, TheBadKeyReplyEchoesTimeFudgeAndOriginalId) {
  TsigSpec spec;
  spec.time_signed = 0x0001'2345'6789;
  spec.fudge = 77;
  spec.original_id = 0xbeef;
  Packet p = ask(query_with(0, {0, 0, 1}, tsig_record(spec)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(tsig_field(p, 1), std::to_string(0x0001'2345'6789ULL));
  EXPECT_EQ(tsig_field(p, 2), "77");
  EXPECT_EQ(tsig_field(p, 4), std::to_string(0xbeef));
}

TEST_F(TsigTest, TheBadKeyReplyToAnEdnsQueryCarriesOptBeforeTheTsig) {
  Packet p = ask(ldns_signed_query("www.example.org.", true));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(static_cast<int>(rcode(p)), 9);
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
  size_t length = response_size();
  // The TSIG RR is the last record: its TYPE sits right after the key name.
  Bytes key = test::wire_name("transfer-key.");
  size_t tsig_start = length - (key.size() + 10 + test::wire_name("hmac-sha256.").size() + 16);
  EXPECT_EQ(buffer[tsig_start + key.size()], 0);
  EXPECT_EQ(buffer[tsig_start + key.size() + 1], kTypeTsig);
}

TEST_F(TsigTest, TheSignatureIsJudgedBeforeTheEdnsVersion) {
  Bytes opt;
  test::append_opt(opt, test::EdnsSpec{1232, 1, false, {}});
  Packet p = ask(query_with(0, {0, 0, 2}, concat(opt, tsig_record())));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(static_cast<int>(rcode(p)), 9);
}

TEST_F(TsigTest, ABadKeyReplyCountsAsAnErrorForRateLimiting) {
  ask(ldns_signed_query("www.example.org.", false));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Error);
  EXPECT_EQ(outcome.rcode, 9);
}

TEST_F(TsigTest, ATsigThatDoesNotFitA512OctetReplySetsTc) {
  // Key and algorithm names of 250 octets each: the TSIG RR alone is over 512.
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(61, 'k') + ".";
  TsigSpec spec;
  spec.owner = test::wire_name(long_name);
  spec.algorithm = test::wire_name(long_name);
  Packet p = ask(query_with(0, {0, 0, 1}, tsig_record(spec)));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));
  EXPECT_LE(response_size(), 512u);
}

TEST_F(TsigTest, ATsigBeforeTheOptRecordIsFormErr) {
  Packet p = ask(query_with(0, {0, 0, 2}, concat(tsig_record(), opt_record())));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ldns_pkt_tsig(p.get()), nullptr);
}

TEST_F(TsigTest, TwoTsigRecordsAreFormErr) {
  Packet p = ask(query_with(0, {0, 0, 2}, concat(tsig_record(), tsig_record())));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, ATsigInTheAuthoritySectionIsFormErr) {
  // NOTIFY may carry records in authority; without the TSIG it would be NOTIMP.
  Packet p = ask(query_with(wire::opcode::Notify, {0, 1, 0}, tsig_record()));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, ATsigOfClassInIsFormErr) {
  TsigSpec spec;
  spec.rclass = 1;
  Packet p = ask(query_with(0, {0, 0, 1}, tsig_record(spec)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, ATsigWithANonZeroTtlIsFormErr) {
  TsigSpec spec;
  spec.ttl = 60;
  Packet p = ask(query_with(0, {0, 0, 1}, tsig_record(spec)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, ACompressedAlgorithmNameIsFormErr) {
  TsigSpec spec;
  spec.algorithm = {0xC0, 12};  // a pointer to the question name
  Packet p = ask(query_with(0, {0, 0, 1}, tsig_record(spec)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, BytesPastTheOtherDataAreFormErr) {
  TsigSpec spec;
  spec.trailing = {0x00};
  Packet p = ask(query_with(0, {0, 0, 1}, tsig_record(spec)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, AMacLongerThanTheRdataIsFormErr) {
  TsigSpec spec;
  spec.mac.clear();
  spec.trailing = {};
  Bytes record = tsig_record(spec);
  // MAC size (after owner, fixed fields, algorithm, time and fudge) claims 64 octets.
  size_t mac_size_at = spec.owner.size() + 10 + spec.algorithm.size() + 8;
  record[mac_size_at + 1] = 64;
  Packet p = ask(query_with(0, {0, 0, 1}, record));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(TsigTest, AnUnsignedQueryIsAnsweredWithoutTsig) {
  test::QuerySpec spec;
  Packet p = ask(test::make_query(spec));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_tsig(p.get()), nullptr);
}

}  // namespace
}  // namespace geosteer::dns
