// The wire codec on its own: query parsing (what is accepted, what is dropped,
// what is FORMERR) and the response writer's compression and rollback.
#include "dns/wire.h"

#include <gtest/gtest.h>

#include "tests/dns/dns_test_support.h"

namespace geosteer::dns::wire {
namespace {

using test::append_header;
using test::append_u16;
using test::Bytes;

Bytes question_bytes(std::string_view name, uint16_t qtype = 1, uint16_t qclass = 1) {
  Bytes out = test::wire_name(name);
  append_u16(out, qtype);
  append_u16(out, qclass);
  return out;
}

// A query header followed by `body`, counts as given.
Bytes message(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar, const Bytes& body,
              uint16_t flags = 0x0100) {
  Bytes out;
  append_header(out, 0xBEEF, flags, qd, an, ns, ar);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

ParseStatus parse(const Bytes& bytes, Query& query) { return parse_query(bytes, query); }

ParseStatus parse(const Bytes& bytes) {
  Query query;
  return parse_query(bytes, query);
}

Bytes query_with_ecs(test::EdnsOptionSpec ecs) {
  test::QuerySpec spec;
  spec.edns = test::EdnsSpec{};
  spec.edns->options.push_back(std::move(ecs));
  return test::make_query(spec);
}

TEST(WireParse, ReadsHeaderAndQuestionKeepingTheReceivedCase) {
  test::QuerySpec spec;
  spec.qname = "WwW.ExAmple.org.";
  spec.qtype = 28;
  Query query;
  ASSERT_EQ(parse(test::make_query(spec), query), ParseStatus::Ok);
  EXPECT_EQ(query.header.id, 0x1234);
  EXPECT_TRUE(query.header.rd());
  EXPECT_EQ(query.header.opcode(), opcode::Query);
  ASSERT_TRUE(query.has_question);
  EXPECT_EQ(query.question.received_name(), std::string_view("\3WwW\7ExAmple\3org", 17));
  EXPECT_EQ(query.question.canonical_name(), std::string_view("\3www\7example\3org", 17));
  EXPECT_EQ(query.question.qtype, 28);
  EXPECT_EQ(query.question.qclass, rrclass::In);
  EXPECT_FALSE(query.edns.present);
}

TEST(WireParse, MessageShorterThanAHeaderIsDropped) {
  Bytes five = {0x12, 0x34, 0x01, 0x00, 0x00};
  EXPECT_EQ(parse(five), ParseStatus::TooShort);
}

TEST(WireParse, ResponseIsDropped) {
  EXPECT_EQ(parse(message(1, 0, 0, 0, question_bytes("example.org."), 0x8000)),
            ParseStatus::Response);
}

TEST(WireParse, ReadsEdnsPayloadVersionDoAndNsid) {
  test::QuerySpec spec;
  spec.edns = test::EdnsSpec{4096, 0, true, {test::nsid_option(), {65001, {1, 2, 3}}}};
  Query query;
  ASSERT_EQ(parse(test::make_query(spec), query), ParseStatus::Ok);
  EXPECT_TRUE(query.edns.present);
  EXPECT_EQ(query.edns.udp_payload, 4096);
  EXPECT_EQ(query.edns.version, 0);
  EXPECT_TRUE(query.edns.dnssec_ok);
  EXPECT_TRUE(query.edns.nsid_requested);
  EXPECT_FALSE(query.edns.client_subnet.present);
}

TEST(WireParse, NotesAKeepaliveOptionWithoutTimeout) {
  test::QuerySpec spec;
  spec.edns = test::EdnsSpec{1232, 0, false, {test::keepalive_option()}};
  Query query;
  ASSERT_EQ(parse(test::make_query(spec), query), ParseStatus::Ok);
  EXPECT_TRUE(query.edns.tcp_keepalive);
  EXPECT_FALSE(query.edns.tcp_keepalive_with_timeout);
}

TEST(WireParse, KeepaliveOptionWithATimeoutIsNotedNotRejected) {
  // Whether it is an error depends on the transport: the responder decides.
  test::QuerySpec spec;
  spec.edns = test::EdnsSpec{1232, 0, false, {test::keepalive_option({0x00, 0x64})}};
  Query query;
  ASSERT_EQ(parse(test::make_query(spec), query), ParseStatus::Ok);
  EXPECT_TRUE(query.edns.present);
  EXPECT_TRUE(query.edns.tcp_keepalive);
  EXPECT_TRUE(query.edns.tcp_keepalive_with_timeout);
}

TEST(WireParse, ReadsClientSubnetOption) {
  Query query;
  ASSERT_EQ(parse(query_with_ecs(test::ecs_option(1, 20, 0, {192, 0, 0x20})), query),
            ParseStatus::Ok);
  const ClientSubnetOption& ecs = query.edns.client_subnet;
  ASSERT_TRUE(ecs.present);
  EXPECT_EQ(ecs.family, ecs_family::Ipv4);
  EXPECT_EQ(ecs.source_prefix, 20);
  EXPECT_EQ(ecs.address_length, 3);
  EXPECT_EQ(ecs.address[2], 0x20);
}

TEST(WireParse, AcceptsBackwardPointerToTheQuestionName) {
  Bytes body = question_bytes("example.org.");
  // An additional RR (not OPT) whose owner points to the question name.
  for (uint8_t b : {0xC0, 0x0C, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x01, 0x00}) {
    body.push_back(b);
  }
  EXPECT_EQ(parse(message(1, 0, 0, 1, body)), ParseStatus::Ok);
}

TEST(WireParse, OptionsOfAnUnknownEdnsVersionAreNotValidated) {
  test::QuerySpec spec;
  spec.edns = test::EdnsSpec{1232, 1, false, {test::ecs_option(3, 0, 0, {})}};
  Query query;
  ASSERT_EQ(parse(test::make_query(spec), query), ParseStatus::Ok);
  EXPECT_EQ(query.edns.version, 1);
}

TEST(WireParseMalformed, TruncatedQuestion) {
  Bytes body = question_bytes("example.org.");
  body.pop_back();
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, NoQuestion) {
  EXPECT_EQ(parse(message(0, 0, 0, 0, {})), ParseStatus::Malformed);
}

TEST(WireParseMalformed, TwoQuestions) {
  Bytes body = question_bytes("example.org.");
  Bytes second = question_bytes("example.net.");
  body.insert(body.end(), second.begin(), second.end());
  EXPECT_EQ(parse(message(2, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, LabelLongerThan63) {
  Bytes body = question_bytes(std::string(64, 'a') + ".org.");
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, NameLongerThan255) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += std::string(60, 'a') + ".";  // 5 * 61 + 1 = 306 octets
  EXPECT_EQ(parse(message(1, 0, 0, 0, question_bytes(name))), ParseStatus::Malformed);
}

TEST(WireParseMalformed, CompressionPointerToItself) {
  Bytes body = {0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01};
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, CompressionPointerLoopingBackwards) {
  // "a" then a pointer back to the start of the same name: backwards, yet a loop.
  Bytes body = {0x01, 'a', 0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01};
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, CompressionPointerForward) {
  Bytes body = {0xC0, 0x12, 0x00, 0x01, 0x00, 0x01, 0x00};
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, CompressionPointerIntoTheHeader) {
  Bytes body = {0xC0, 0x04, 0x00, 0x01, 0x00, 0x01};
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, ExtendedLabelType) {
  Bytes body = {0x41, 'a', 0x00, 0x00, 0x01, 0x00, 0x01};
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, AnswerRecordInAQuery) {
  Bytes body = question_bytes("example.org.");
  for (uint8_t b : {0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x04, 1, 2, 3, 4}) {
    body.push_back(b);
  }
  EXPECT_EQ(parse(message(1, 1, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, TrailingGarbage) {
  Bytes body = question_bytes("example.org.");
  body.push_back(0xFF);
  EXPECT_EQ(parse(message(1, 0, 0, 0, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, TwoOptRecords) {
  Bytes body = question_bytes("example.org.");
  test::append_opt(body, {});
  test::append_opt(body, {});
  Query query;
  EXPECT_EQ(parse(message(1, 0, 0, 2, body), query), ParseStatus::Malformed);
  EXPECT_FALSE(query.edns.present);
}

TEST(WireParseMalformed, OptNotOwnedByTheRoot) {
  Bytes body = question_bytes("example.org.");
  Bytes opt;
  test::append_opt(opt, {});
  body.push_back(0xC0);  // owner "example.org." instead of the root
  body.push_back(0x0C);
  body.insert(body.end(), opt.begin() + 1, opt.end());
  EXPECT_EQ(parse(message(1, 0, 0, 1, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, OptInTheAuthoritySection) {
  Bytes body = question_bytes("example.org.");
  test::append_opt(body, {});
  EXPECT_EQ(parse(message(1, 0, 1, 0, body, 0x2800)), ParseStatus::Malformed);  // UPDATE
}

TEST(WireParseMalformed, OptionLengthPastTheRdata) {
  Bytes body = question_bytes("example.org.");
  test::append_opt(body, {1232, 0, false, {{10, {1, 2, 3, 4, 5, 6, 7, 8}}}});
  body[body.size() - 9] = 9;  // option length 9 in an 8-octet option
  EXPECT_EQ(parse(message(1, 0, 0, 1, body)), ParseStatus::Malformed);
}

TEST(WireParseMalformed, ClientSubnetFamily3) {
  Query query;
  EXPECT_EQ(parse(query_with_ecs(test::ecs_option(3, 8, 0, {10})), query), ParseStatus::Malformed);
  EXPECT_TRUE(query.client_subnet_malformed);
  EXPECT_TRUE(query.edns.present);  // the OPT RR itself is fine and gets echoed
  EXPECT_FALSE(query.edns.client_subnet.present);
}

TEST(WireParseMalformed, ClientSubnetSourceLongerThanTheFamily) {
  EXPECT_EQ(parse(query_with_ecs(test::ecs_option(1, 33, 0, {10, 0, 0, 1, 0}))),
            ParseStatus::Malformed);
}

TEST(WireParseMalformed, ClientSubnetScopeNotZeroInAQuery) {
  EXPECT_EQ(parse(query_with_ecs(test::ecs_option(1, 24, 24, {10, 0, 0}))),
            ParseStatus::Malformed);
}

TEST(WireParseMalformed, ClientSubnetAddressLongerThanTheSource) {
  EXPECT_EQ(parse(query_with_ecs(test::ecs_option(1, 24, 0, {10, 0, 0, 0}))),
            ParseStatus::Malformed);
}

TEST(WireParseMalformed, ClientSubnetAddressShorterThanTheSource) {
  EXPECT_EQ(parse(query_with_ecs(test::ecs_option(2, 56, 0, {0x20, 0x01, 0x0d, 0xb8}))),
            ParseStatus::Malformed);
}

TEST(WireParseMalformed, ClientSubnetBitsSetPastTheSource) {
  EXPECT_EQ(parse(query_with_ecs(test::ecs_option(1, 20, 0, {10, 0, 0x18}))),
            ParseStatus::Malformed);
}

TEST(WireParseMalformed, ClientSubnetOptionTooShort) {
  EXPECT_EQ(parse(query_with_ecs({8, {0, 1, 0}})), ParseStatus::Malformed);
}

TEST(WireParseMalformed, TwoClientSubnetOptions) {
  test::QuerySpec spec;
  spec.edns = test::EdnsSpec{};
  spec.edns->options = {test::ecs_option(1, 8, 0, {10}), test::ecs_option(1, 8, 0, {11})};
  EXPECT_EQ(parse(test::make_query(spec)), ParseStatus::Malformed);
}

// The writer, checked byte by byte where the encoding is the point.
class WireWriter : public ::testing::Test {
 protected:
  uint8_t buffer[512] = {};
  ResponseWriter writer{buffer, sizeof buffer};
  const std::string_view question{"\3WWW\7example\3org", 17};
  const std::string_view rdata_a{"\xC0\x00\x02\x01", 4};
};

TEST_F(WireWriter, OwnerEqualToTheQuestionBecomesAPointerToIt) {
  ASSERT_TRUE(writer.add_question(question, 1, 1));
  ASSERT_TRUE(writer.add_rr(Section::Answer, {"\3www\7example\3org", 17}, 1, 1, 300, rdata_a));
  size_t answer = kHeaderSize + question.size() + 4;
  EXPECT_EQ(buffer[answer], 0xC0);
  EXPECT_EQ(buffer[answer + 1], kHeaderSize);
  EXPECT_EQ(writer.size(), answer + 2 + 10 + 4);
}

TEST_F(WireWriter, OwnerSharingASuffixPointsToThatSuffix) {
  ASSERT_TRUE(writer.add_question(question, 1, 1));
  ASSERT_TRUE(writer.add_rr(Section::Answer, {"\4mail\7EXAMPLE\3org", 18}, 1, 1, 300, rdata_a));
  size_t answer = kHeaderSize + question.size() + 4;
  EXPECT_EQ(std::string_view(reinterpret_cast<char*>(buffer + answer), 5), "\4mail");
  EXPECT_EQ(buffer[answer + 5], 0xC0);
  EXPECT_EQ(buffer[answer + 6], kHeaderSize + 4);  // "example.org." inside the question
}

TEST_F(WireWriter, RecordThatDoesNotFitIsNotWrittenAtAll) {
  ResponseWriter small{std::span<uint8_t>(buffer), 40};
  ASSERT_TRUE(small.add_question(question, 16, 1));
  std::string big(100, 'x');
  EXPECT_FALSE(small.add_rr(Section::Answer, question, 16, 1, 300, big));
  EXPECT_EQ(small.size(), kHeaderSize + question.size() + 4);
}

TEST_F(WireWriter, RollbackForgetsRecordsAndCompressionTargets) {
  ASSERT_TRUE(writer.add_question(question, 1, 1));
  ResponseWriter::Mark mark = writer.mark();
  ASSERT_TRUE(writer.add_rr(Section::Answer, {"\3ftp\3net", 9}, 1, 1, 300, rdata_a));
  writer.rollback(mark);
  // A stale target for "net." would now point into overwritten bytes.
  ASSERT_TRUE(writer.add_rr(Section::Answer, {"\4mail\3net", 10}, 1, 1, 300, rdata_a));
  test::Packet packet = test::decode({buffer, writer.finish()});
  ASSERT_NE(packet, nullptr);
  EXPECT_EQ(test::answer(packet), std::vector<std::string>{"mail.net. 300 IN A 192.0.2.1"});
}

TEST_F(WireWriter, ReservedRoomIsKeptForTheOptRecord) {
  ResponseWriter small{std::span<uint8_t>(buffer), 60};
  ASSERT_TRUE(small.add_question(question, 16, 1));
  small.reserve(opt_record_size({}));
  EXPECT_FALSE(small.add_rr(Section::Answer, question, 16, 1, 300, std::string(11, 'x')));
  small.release(opt_record_size({}));
  EXPECT_TRUE(small.add_opt(1232, 0, false, {}));
}

TEST_F(WireWriter, FinishWritesIdFlagsAndCounts) {
  writer.set_id(0xABCD);
  writer.set_flags(flag::Qr | flag::Aa);
  ASSERT_TRUE(writer.add_question(question, 1, 1));
  ASSERT_TRUE(writer.add_rr(Section::Answer, question, 1, 1, 300, rdata_a));
  ASSERT_TRUE(writer.add_opt(1232, 0, true, {}));
  test::Packet packet = test::decode({buffer, writer.finish()});
  ASSERT_NE(packet, nullptr);
  EXPECT_EQ(ldns_pkt_id(packet.get()), 0xABCD);
  EXPECT_TRUE(ldns_pkt_qr(packet.get()));
  EXPECT_TRUE(ldns_pkt_aa(packet.get()));
  EXPECT_EQ(ldns_pkt_qdcount(packet.get()), 1);
  EXPECT_EQ(ldns_pkt_ancount(packet.get()), 1);
  EXPECT_TRUE(ldns_pkt_edns_do(packet.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(packet.get()), 1232);
}

}  // namespace
}  // namespace geosteer::dns::wire
