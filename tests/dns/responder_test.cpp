// Responder::respond() end to end: query bytes in, response bytes out, decoded
// by ldns. Zones are built directly (tests/dns/text_zone.h), dynamic answers
// come from a fake with fixed addresses and scopes.
#include "dns/responder.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "dns/wire.h"
#include "tests/dns/dns_test_support.h"
#include "tests/dns/text_zone.h"

namespace geosteer::dns {
namespace {

using test::Bytes;
using test::Packet;
using test::QuerySpec;
using Strings = std::vector<std::string>;
using test::TextZone;

constexpr int kMirrorService = 0;
constexpr int kIpv4OnlyService = 1;
constexpr uint16_t kTypeNs = 2, kTypeCname = 5, kTypeMx = 15, kTypeTxt = 16, kTypeAaaa = 28,
                   kTypeDs = 43, kTypeAny = 255;

const char* const kSoa =
    "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 3600 600 "
    "1209600 300";

IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return IpAddress::v4({a, b, c, d}); }

// Cookies are answered with this secret at this time (RFC 9018 Appendix A.1).
const CookieSecret kCookieSecret = {0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
                                    0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf};
uint32_t cookie_time() { return 1559731985; }

ResponderOptions options(std::string identity = "ns1.geosteer.test") {
  return {std::move(identity), 1232, kCookieSecret, cookie_time};
}

class FakeDynamicAnswers : public DynamicAnswers {
 public:
  void answer(int service, Family family, const ClientSubnet& client,
              DynamicAnswer& out) const override {
    ++calls;
    last_client = client;
    if (service == kIpv4OnlyService && family == Family::V6) return;
    out.ttl = 60;
    if (family == Family::V4) {
      out.addresses[0] = v4(198, 51, 100, 1);
      out.addresses[1] = v4(198, 51, 100, 2);
      out.count = 2;
      out.scope_prefix = scope_v4;
    } else {
      out.addresses[0] = *IpAddress::parse("2001:db8:100::1");
      out.count = 1;
      out.scope_prefix = scope_v6;
    }
  }

  // Writes `explanation` as character-strings, like the real one.
  size_t explain(int service, const ClientSubnet& client, std::span<char> out) const override {
    ++explain_calls;
    explained_service = service;
    last_client = client;
    size_t length = 0;
    for (const std::string& text : explanation) {
      if (length + 1 + text.size() > out.size()) break;
      out[length++] = static_cast<char>(text.size());
      std::copy(text.begin(), text.end(), out.begin() + static_cast<std::ptrdiff_t>(length));
      length += text.size();
    }
    return length;
  }

  uint8_t scope_v4 = 24;
  uint8_t scope_v6 = 48;
  std::vector<std::string> explanation = {"client as given", "A: m1 up"};
  mutable int calls = 0;
  mutable int explain_calls = 0;
  mutable int explained_service = -1;
  mutable ClientSubnet last_client;
};

zones::Zone example_org() {
  TextZone zone("example.org.");
  zone.add("@", 3600, "SOA ns1.example.org. hostmaster.example.org. 2024010101 3600 600 1209600 300")
      .add("@", 3600, "NS ns1.example.org.")
      .add("@", 3600, "NS ns2.example.org.")
      .add("ns1", 3600, "A 192.0.2.53")
      .add("ns2", 3600, "AAAA 2001:db8::53")
      .add("www", 300, "A 192.0.2.1")
      .add("www", 300, "AAAA 2001:db8::1")
      .add("a.b.c", 300, "TXT \"deep\"")
      .add("alias", 300, "CNAME www.example.org.")
      .add("mirror-alias", 300, "CNAME Mirror.Example.org.")
      .add("external", 300, "CNAME www.example.net.")
      .add("loop1", 300, "CNAME loop2.example.org.")
      .add("loop2", 300, "CNAME loop1.example.org.")
      .service("mirror", kMirrorService)
      .add("mirror", 300, "TXT \"steered\"")
      .service("v4only", kIpv4OnlyService)
      .add("*.wild", 300, "A 192.0.2.99")
      .add("sub", 3600, "NS ns.sub.example.org.")
      .add("ns.sub", 3600, "A 192.0.2.54");
  for (int i = 0; i < 10; ++i) {
    zone.add("big", 300, "TXT \"" + std::to_string(i) + std::string(99, 'x') + "\"");
  }
  return zone.finish();
}

// A zone whose apex NS answer fits in 512 octets but whose glue does not.
zones::Zone glue_test() {
  TextZone zone("glue.test.");
  zone.add("@", 3600, "SOA ns01.glue.test. admin.glue.test. 1 3600 600 86400 60");
  for (int i = 1; i <= 7; ++i) {
    std::string host = "ns0" + std::to_string(i) + "-with-a-rather-long-host-label";
    zone.add("@", 3600, "NS " + host + ".glue.test.");
    zone.add(host, 3600, "A 192.0.2." + std::to_string(i));
  }
  return zone.finish();
}

// Delegations whose glue does not fit in 512 octets: `deep` has its name servers
// inside itself (in-domain glue), `sibling` has the same ones, inside `deep`
// (sibling glue), `small` has one.
zones::Zone referral_test() {
  TextZone zone("referral.test.");
  zone.add("@", 3600, "SOA ns.referral.test. admin.referral.test. 1 3600 600 86400 60")
      .add("small", 3600, "NS ns.small.referral.test.")
      .add("ns.small", 3600, "A 192.0.2.70");
  for (int i = 1; i <= 7; ++i) {
    std::string host = "ns0" + std::to_string(i) + "-long-label-for-glue.deep";
    zone.add("deep", 3600, "NS " + host + ".referral.test.");
    zone.add("sibling", 3600, "NS " + host + ".referral.test.");
    zone.add(host, 3600, "A 192.0.2." + std::to_string(70 + i));
  }
  return zone.finish();
}

class ResponderTest : public ::testing::Test {
 protected:
  Packet ask(const QuerySpec& spec, Transport transport = Transport::Udp) {
    return ask_raw(test::make_query(spec), transport);
  }

  Packet ask_raw(const Bytes& query, Transport transport = Transport::Udp) {
    RequestInfo info{transport, source};
    response_size = responder.respond(query, info, buffer, &outcome);
    if (response_size == 0) return nullptr;
    return test::decode({buffer.data(), response_size});
  }

  static QuerySpec query(std::string qname, uint16_t qtype = 1) {
    QuerySpec spec;
    spec.qname = std::move(qname);
    spec.qtype = qtype;
    return spec;
  }

  static QuerySpec with_ecs(QuerySpec spec, uint16_t family, uint8_t source, Bytes address) {
    spec.edns = test::EdnsSpec{};
    spec.edns->options.push_back(test::ecs_option(family, source, 0, std::move(address)));
    return spec;
  }

  static ldns_pkt_rcode rcode(const Packet& p) { return ldns_pkt_get_rcode(p.get()); }

  zones::ZoneSet zone_set =
      zones::ZoneBuilder::make_set({example_org(), glue_test(), referral_test()});
  FakeDynamicAnswers dynamic;
  Responder responder{zone_set, dynamic, options()};
  IpAddress source = v4(203, 0, 113, 7);
  std::array<uint8_t, 65535> buffer{};
  size_t response_size = 0;
  QueryOutcome outcome;
};

TEST_F(ResponderTest, AnswersAWithAuthorityAndTheQueryCase) {
  Packet p = ask(query("WwW.Example.ORG."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_qr(p.get()));
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_FALSE(ldns_pkt_ra(p.get()));
  EXPECT_EQ(ldns_pkt_id(p.get()), 0x1234);
  EXPECT_EQ(test::question_name(p), "WwW.Example.ORG.");
  EXPECT_EQ(test::answer(p), Strings{"WwW.Example.ORG. 300 IN A 192.0.2.1"});
  EXPECT_TRUE(test::authority(p).empty());
}

TEST_F(ResponderTest, AnswerOwnerIsAPointerToTheQuestion) {
  ask(query("www.example.org."));
  size_t answer_owner = wire::kHeaderSize + 17 + 4;
  EXPECT_EQ(buffer[answer_owner], 0xC0);
  EXPECT_EQ(buffer[answer_owner + 1], wire::kHeaderSize);
}

TEST_F(ResponderTest, AnswersAaaa) {
  Packet p = ask(query("www.example.org.", kTypeAaaa));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), Strings{"www.example.org. 300 IN AAAA 2001:db8::1"});
}

TEST_F(ResponderTest, RdClearInTheQueryStaysClear) {
  QuerySpec spec = query("www.example.org.");
  spec.rd = false;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_rd(p.get()));
}

TEST_F(ResponderTest, NxDomainCarriesTheSoaWithTheNegativeTtl) {
  Packet p = ask(query("nope.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, NoDataCarriesTheSoa) {
  Packet p = ask(query("www.example.org.", kTypeMx));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, EmptyNonTerminalIsNoData) {
  Packet p = ask(query("b.c.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, CnameIsAnsweredAndChasedInsideTheZone) {
  Packet p = ask(query("alias.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p), (Strings{"alias.example.org. 300 IN CNAME www.example.org.",
                                      "www.example.org. 300 IN A 192.0.2.1"}));
}

TEST_F(ResponderTest, CnameChaseIntoAServiceUsesTheDynamicAnswer) {
  Packet p = ask(query("mirror-alias.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), (Strings{"mirror-alias.example.org. 300 IN CNAME Mirror.Example.org.",
                                      "mirror.example.org. 60 IN A 198.51.100.1",
                                      "mirror.example.org. 60 IN A 198.51.100.2"}));
}

TEST_F(ResponderTest, CnameLeavingOurZonesIsNotChased) {
  Packet p = ask(query("external.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(test::answer(p), Strings{"external.example.org. 300 IN CNAME www.example.net."});
}

TEST_F(ResponderTest, CnameQueryGetsTheCnameAlone) {
  Packet p = ask(query("alias.example.org.", kTypeCname));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), Strings{"alias.example.org. 300 IN CNAME www.example.org."});
}

TEST_F(ResponderTest, CnameLoopStopsAfterEightRecords) {
  Packet p = ask(query("loop1.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 8);
}

TEST_F(ResponderTest, ApexNsCarriesInZoneGlue) {
  Packet p = ask(query("example.org.", kTypeNs));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p), (Strings{"example.org. 3600 IN NS ns1.example.org.",
                                      "example.org. 3600 IN NS ns2.example.org."}));
  EXPECT_EQ(test::additional(p), (Strings{"ns1.example.org. 3600 IN A 192.0.2.53",
                                          "ns2.example.org. 3600 IN AAAA 2001:db8::53"}));
}

TEST_F(ResponderTest, GlueThatDoesNotFitIsDroppedWithoutTruncation) {
  Packet p = ask(query("glue.test.", kTypeNs));
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 7);
  EXPECT_GT(ldns_pkt_arcount(p.get()), 0);
  EXPECT_LT(ldns_pkt_arcount(p.get()), 7);
  EXPECT_LE(response_size, 512u);
}

TEST_F(ResponderTest, NameBelowAZoneCutGetsAReferral) {
  Packet p = ask(query("host.sub.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{"sub.example.org. 3600 IN NS ns.sub.example.org."});
  EXPECT_EQ(test::additional(p), Strings{"ns.sub.example.org. 3600 IN A 192.0.2.54"});
}

TEST_F(ResponderTest, AReferralCarriesItsInDomainGlue) {
  Packet p = ask(query("host.small.referral.test."));
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(test::additional(p), Strings{"ns.small.referral.test. 3600 IN A 192.0.2.70"});
}

TEST_F(ResponderTest, InDomainGlueThatDoesNotFitTruncatesTheReferral) {
  // RFC 9471 section 3.1: without all of it the delegated zone may be unreachable.
  Packet p = ask(query("host.deep.referral.test."));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));
  EXPECT_LE(response_size, 512u);
  EXPECT_TRUE(outcome.truncated);
}

TEST_F(ResponderTest, InDomainGlueIsWholeOverTcp) {
  Packet p = ask(query("host.deep.referral.test."), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(ldns_pkt_nscount(p.get()), 7);
  EXPECT_EQ(ldns_pkt_arcount(p.get()), 7);
}

TEST_F(ResponderTest, SiblingGlueThatDoesNotFitIsLeftOutWithoutTruncation) {
  // RFC 9471 section 3.2: sibling glue is included as far as it fits; TC is for
  // in-domain glue only.
  Packet p = ask(query("host.sibling.referral.test."));
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(ldns_pkt_nscount(p.get()), 7);
  EXPECT_GT(ldns_pkt_arcount(p.get()), 0);
  EXPECT_LT(ldns_pkt_arcount(p.get()), 7);
}

TEST_F(ResponderTest, DsAtAZoneCutIsAnsweredByTheParent) {
  Packet p = ask(query("sub.example.org.", kTypeDs));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, WildcardAnswersWithTheQueryNameAsOwner) {
  Packet p = ask(query("Some.Host.wild.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p), Strings{"Some.Host.wild.example.org. 300 IN A 192.0.2.99"});
}

TEST_F(ResponderTest, NameOutsideOurZonesIsRefused) {
  Packet p = ask(query("www.example.net."));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::question_name(p), "www.example.net.");
  EXPECT_TRUE(test::answer(p).empty());
}

TEST_F(ResponderTest, ServiceAddressesComeFromTheDynamicAnswers) {
  Packet p = ask(query("mirror.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p), (Strings{"mirror.example.org. 60 IN A 198.51.100.1",
                                      "mirror.example.org. 60 IN A 198.51.100.2"}));
  EXPECT_EQ(dynamic.last_client.address, source);
  EXPECT_EQ(dynamic.last_client.source_prefix, 32);
  EXPECT_FALSE(dynamic.last_client.from_ecs);
}

TEST_F(ResponderTest, ServiceAaaaComesFromTheDynamicAnswers) {
  Packet p = ask(query("mirror.example.org.", kTypeAaaa));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), Strings{"mirror.example.org. 60 IN AAAA 2001:db8:100::1"});
}

TEST_F(ResponderTest, ServiceWithoutAddressesOfTheFamilyIsNoData) {
  Packet p = ask(query("v4only.example.org.", kTypeAaaa));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, ServiceNodeServesItsStaticRecords) {
  Packet p = ask(query("mirror.example.org.", kTypeTxt));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), Strings{"mirror.example.org. 300 IN TXT \"steered\""});
  EXPECT_EQ(dynamic.calls, 0);
}

TEST_F(ResponderTest, AnyOverUdpIsAnsweredWithTheRfc8482Hinfo) {
  Packet p = ask(query("www.example.org.", kTypeAny));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p), Strings{"www.example.org. 300 IN HINFO \"RFC8482\" \"\""});
}

TEST_F(ResponderTest, AnyOverTcpReturnsEveryRRset) {
  Packet p = ask(query("www.example.org.", kTypeAny), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), (Strings{"www.example.org. 300 IN A 192.0.2.1",
                                      "www.example.org. 300 IN AAAA 2001:db8::1"}));
}

TEST_F(ResponderTest, AnyOverTcpAtAServiceAddsItsDynamicAddresses) {
  Packet p = ask(query("mirror.example.org.", kTypeAny), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), (Strings{"mirror.example.org. 300 IN TXT \"steered\"",
                                      "mirror.example.org. 60 IN A 198.51.100.1",
                                      "mirror.example.org. 60 IN A 198.51.100.2",
                                      "mirror.example.org. 60 IN AAAA 2001:db8:100::1"}));
}

TEST_F(ResponderTest, AnyForAMissingNameIsNxDomain) {
  Packet p = ask(query("nope.example.org.", kTypeAny));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, AxfrIsRefused) {
  Packet p = ask(query("example.org.", wire::qtype::Axfr), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
  EXPECT_TRUE(test::answer(p).empty());
}

TEST_F(ResponderTest, IxfrIsRefused) {
  Packet p = ask(query("example.org.", wire::qtype::Ixfr));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
}

TEST_F(ResponderTest, QtypeOptIsFormErr) {
  Packet p = ask(query("www.example.org.", 41));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(ResponderTest, QtypeTsigIsFormErr) {
  Packet p = ask(query("www.example.org.", wire::qtype::Tsig));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST_F(ResponderTest, QtypeMailaIsNotImplemented) {
  Packet p = ask(query("www.example.org.", wire::qtype::Maila));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOTIMPL);
}

TEST_F(ResponderTest, UnassignedMetaQtypeIsNotImplemented) {
  Packet p = ask(query("www.example.org.", 200));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOTIMPL);
}

TEST_F(ResponderTest, ClassAnyIsRefused) {
  QuerySpec spec = query("www.example.org.");
  spec.qclass = wire::rrclass::Any;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
}

TEST_F(ResponderTest, ClassHesiodIsRefused) {
  QuerySpec spec = query("www.example.org.");
  spec.qclass = 4;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
}

TEST_F(ResponderTest, NotifyIsNotImplemented) {
  QuerySpec spec = query("example.org.", 6);
  spec.opcode = wire::opcode::Notify;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOTIMPL);
  EXPECT_EQ(ldns_pkt_get_opcode(p.get()), LDNS_PACKET_NOTIFY);
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
}

TEST_F(ResponderTest, UpdateIsNotImplemented) {
  QuerySpec spec = query("example.org.", 6);
  spec.opcode = wire::opcode::Update;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOTIMPL);
}

TEST_F(ResponderTest, ResponseMessageIsDropped) {
  Bytes message = test::make_query(query("www.example.org."));
  message[2] |= 0x80;  // QR
  EXPECT_EQ(ask_raw(message), nullptr);
  EXPECT_EQ(response_size, 0u);
}

TEST_F(ResponderTest, FiveByteMessageIsDropped) {
  EXPECT_EQ(ask_raw({0x12, 0x34, 0x01, 0x00, 0x00}), nullptr);
  EXPECT_EQ(response_size, 0u);
}

TEST_F(ResponderTest, FormErrEchoesTheQuestionAndTheOpt) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{};
  Bytes message = test::make_query(spec);
  message.push_back(0);  // trailing garbage
  Packet p = ask_raw(message);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
  EXPECT_EQ(test::question_name(p), "www.example.org.");
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_TRUE(test::answer(p).empty());
}

// Every malformation class answers FORMERR, without data and without an ECS echo.
struct MalformedCase {
  const char* name;
  Bytes message;
};

Bytes header_then(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar, Bytes body) {
  Bytes out;
  test::append_header(out, 0x4242, 0x0100, qd, an, ns, ar);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes question_of(std::string_view name) {
  Bytes out = test::wire_name(name);
  test::append_u16(out, 1);
  test::append_u16(out, 1);
  return out;
}

Bytes with_ecs_query(test::EdnsOptionSpec ecs) {
  QuerySpec spec;
  spec.qname = "mirror.example.org.";
  spec.edns = test::EdnsSpec{};
  spec.edns->options.push_back(std::move(ecs));
  return test::make_query(spec);
}

std::vector<MalformedCase> malformed_cases() {
  Bytes truncated = header_then(1, 0, 0, 0, question_of("www.example.org."));
  truncated.resize(truncated.size() - 3);
  Bytes two_questions = question_of("www.example.org.");
  Bytes second = question_of("example.org.");
  two_questions.insert(two_questions.end(), second.begin(), second.end());
  Bytes two_opts = question_of("www.example.org.");
  test::append_opt(two_opts, {});
  test::append_opt(two_opts, {});
  return {
      {"TruncatedQuestion", truncated},
      {"TwoQuestions", header_then(2, 0, 0, 0, two_questions)},
      {"LabelTooLong", header_then(1, 0, 0, 0, question_of(std::string(64, 'a') + ".org."))},
      {"PointerLoop", header_then(1, 0, 0, 0, {0xC0, 0x0C, 0, 1, 0, 1})},
      {"TwoOptRecords", header_then(1, 0, 0, 2, two_opts)},
      {"EcsFamily3", with_ecs_query(test::ecs_option(3, 8, 0, {10}))},
      {"EcsSource33", with_ecs_query(test::ecs_option(1, 33, 0, {10, 0, 0, 1, 0}))},
      {"EcsScopeNotZero", with_ecs_query(test::ecs_option(1, 24, 16, {10, 0, 0}))},
      {"EcsWrongAddressLength", with_ecs_query(test::ecs_option(1, 16, 0, {10, 0, 0}))},
      {"EcsBitsPastSource", with_ecs_query(test::ecs_option(1, 23, 0, {10, 0, 1}))},
  };
}

class ResponderMalformedTest : public ResponderTest,
                               public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(ResponderMalformedTest, AnswersFormErrWithoutDataOrClientSubnet) {
  Packet p = ask_raw(GetParam().message);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::ClientSubnet).has_value());
  EXPECT_EQ(dynamic.calls, 0);
}

INSTANTIATE_TEST_SUITE_P(EachClass, ResponderMalformedTest, ::testing::ValuesIn(malformed_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(ResponderTest, FormErrCausedByTheClientSubnetStillEchoesTheOpt) {
  Packet p = ask_raw(with_ecs_query(test::ecs_option(3, 8, 0, {10})));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
}

TEST_F(ResponderTest, EdnsVersion1GetsBadvers) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{1232, 1, false, {}};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);  // the low four bits of 16
  ASSERT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(p.get()), 1);
  EXPECT_EQ(ldns_pkt_edns_version(p.get()), 0);
  EXPECT_TRUE(test::answer(p).empty());
}

TEST_F(ResponderTest, EdnsResponseAdvertisesOurPayloadAndEchoesDo) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{4096, 0, true, {}};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
  EXPECT_EQ(ldns_pkt_edns_version(p.get()), 0);
  EXPECT_TRUE(ldns_pkt_edns_do(p.get()));
}

TEST_F(ResponderTest, NoOptWithoutEdnsInTheQuery) {
  Packet p = ask(query("www.example.org."));
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_edns(p.get()));
  EXPECT_EQ(ldns_pkt_arcount(p.get()), 0);
}

TEST_F(ResponderTest, LargeRRsetTruncatesWithoutEdns) {
  Packet p = ask(query("big.example.org.", kTypeTxt));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(test::question_name(p), "big.example.org.");
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_LE(response_size, 512u);
}

TEST_F(ResponderTest, TruncatedEdnsResponseKeepsTheOpt) {
  QuerySpec spec = query("big.example.org.", kTypeTxt);
  spec.edns = test::EdnsSpec{512, 0, false, {}};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));
  EXPECT_TRUE(ldns_pkt_edns(p.get()));
  EXPECT_LE(response_size, 512u);
}

TEST_F(ResponderTest, LargeRRsetFitsWithEdns4096) {
  QuerySpec spec = query("big.example.org.", kTypeTxt);
  spec.edns = test::EdnsSpec{4096, 0, false, {}};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 10);
  EXPECT_GT(response_size, 512u);
  EXPECT_LE(response_size, 1232u);
}

TEST_F(ResponderTest, LargeRRsetFitsOverTcp) {
  Packet p = ask(query("big.example.org.", kTypeTxt), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 10);
}

TEST_F(ResponderTest, ChaosIdServerAnswersTheIdentity) {
  QuerySpec spec = query("ID.Server.", kTypeTxt);
  spec.qclass = wire::rrclass::Ch;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p), Strings{"ID.Server. 0 CH TXT \"ns1.geosteer.test\""});
}

TEST_F(ResponderTest, ChaosHostnameBindAnswersTheIdentity) {
  QuerySpec spec = query("hostname.bind.", kTypeTxt);
  spec.qclass = wire::rrclass::Ch;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), Strings{"hostname.bind. 0 CH TXT \"ns1.geosteer.test\""});
}

TEST_F(ResponderTest, OtherChaosNamesAreRefused) {
  QuerySpec spec = query("version.bind.", kTypeTxt);
  spec.qclass = wire::rrclass::Ch;
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
  EXPECT_TRUE(test::answer(p).empty());
}

TEST_F(ResponderTest, NsidRequestGetsTheIdentity) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{1232, 0, false, {test::nsid_option()}};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  std::string identity = "ns1.geosteer.test";
  EXPECT_EQ(test::edns_option(p, wire::edns_option::Nsid), Bytes(identity.begin(), identity.end()));
}

TEST_F(ResponderTest, NsidTooLongForTheResponseIsLeftOut) {
  Responder verbose{zone_set, dynamic, options(std::string(600, 'n'))};
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{512, 0, false, {test::nsid_option()}};
  Bytes message = test::make_query(spec);
  size_t size = verbose.respond(message, {Transport::Udp, source}, buffer);
  Packet p = test::decode({buffer.data(), size});
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::Nsid).has_value());
  EXPECT_EQ(test::answer(p), Strings{"www.example.org. 300 IN A 192.0.2.1"});
}

TEST_F(ResponderTest, NoNsidUnlessRequested) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::Nsid).has_value());
}

TEST_F(ResponderTest, ClientSubnetEchoCarriesTheDynamicAnswerScope) {
  Packet p = ask(with_ecs(query("mirror.example.org."), 1, 24, {198, 51, 100}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 1, 24, 24, 198, 51, 100}));
  EXPECT_EQ(dynamic.last_client.address, v4(198, 51, 100, 0));
  EXPECT_EQ(dynamic.last_client.source_prefix, 24);
  EXPECT_TRUE(dynamic.last_client.from_ecs);
}

TEST_F(ResponderTest, ClientSubnetScopeIsClampedToTheFamily) {
  dynamic.scope_v4 = 40;
  Packet p = ask(with_ecs(query("mirror.example.org."), 1, 32, {198, 51, 100, 9}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 1, 32, 32, 198, 51, 100, 9}));
}

TEST_F(ResponderTest, ClientSubnetScopeIsZeroForStaticAnswers) {
  Packet p = ask(with_ecs(query("www.example.org."), 1, 24, {198, 51, 100}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 1, 24, 0, 198, 51, 100}));
}

TEST_F(ResponderTest, ClientSubnetScopeIsZeroForNegativeAnswers) {
  Packet p = ask(with_ecs(query("v4only.example.org.", kTypeAaaa), 1, 24, {198, 51, 100}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 1, 24, 0, 198, 51, 100}));
}

TEST_F(ResponderTest, ClientSubnetSourceZeroSteersBySourceAddressWithScopeZero) {
  Packet p = ask(with_ecs(query("mirror.example.org."), 1, 0, {}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet), (Bytes{0, 1, 0, 0}));
  EXPECT_EQ(dynamic.last_client.address, source);
  EXPECT_FALSE(dynamic.last_client.from_ecs);
}

TEST_F(ResponderTest, ClientSubnetIpv6) {
  Packet p = ask(with_ecs(query("mirror.example.org.", kTypeAaaa), 2, 56,
                          {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 2, 56, 48, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56}));
  EXPECT_EQ(dynamic.last_client.address, *IpAddress::parse("2001:db8:1234:5600::"));
  EXPECT_EQ(dynamic.last_client.source_prefix, 56);
}

TEST_F(ResponderTest, NoClientSubnetEchoWithoutOneInTheQuery) {
  QuerySpec spec = query("mirror.example.org.");
  spec.edns = test::EdnsSpec{};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::ClientSubnet).has_value());
}

// --- _geosteer.<service>: the explanation TXT ----------------------------------

TEST_F(ResponderTest, ExplainNameAnswersTheExplanationWithTtlZero) {
  Packet p = ask(query("_geosteer.mirror.example.org.", kTypeTxt));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_EQ(test::answer(p),
            Strings{"_geosteer.mirror.example.org. 0 IN TXT \"client as given\" \"A: m1 up\""});
  EXPECT_TRUE(test::authority(p).empty());
  EXPECT_EQ(dynamic.explained_service, kMirrorService);
  EXPECT_EQ(dynamic.calls, 0);
}

TEST_F(ResponderTest, ExplainNameOfEachServiceExplainsThatService) {
  ask(query("_geosteer.v4only.example.org.", kTypeTxt));
  EXPECT_EQ(dynamic.explained_service, kIpv4OnlyService);
}

TEST_F(ResponderTest, ExplainAnswerKeepsTheQueryCase) {
  Packet p = ask(query("_GeoSteer.MIRROR.example.org.", kTypeTxt));
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(test::answer(p).size(), 1u);
  EXPECT_EQ(test::owner_text(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0)),
            "_GeoSteer.MIRROR.example.org.");
}

TEST_F(ResponderTest, ExplainIsGivenTheClientAsTheWireSaidIt) {
  ask(with_ecs(query("_geosteer.mirror.example.org.", kTypeTxt), 1, 20, {198, 51, 96}));
  EXPECT_EQ(dynamic.last_client.address, v4(198, 51, 96, 0));
  EXPECT_EQ(dynamic.last_client.source_prefix, 20);
  EXPECT_TRUE(dynamic.last_client.from_ecs);
}

TEST_F(ResponderTest, ExplainScopeIsTheSourcePrefixSoNoCacheSharesIt) {
  // The fake's A scope is 24: the explanation must not borrow it.
  Packet p = ask(with_ecs(query("_geosteer.mirror.example.org.", kTypeTxt), 1, 20, {198, 51, 96}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 1, 20, 20, 198, 51, 96}));
}

TEST_F(ResponderTest, ExplainScopeIsTheSourcePrefixForIpv6Too) {
  Packet p = ask(with_ecs(query("_geosteer.mirror.example.org.", kTypeTxt), 2, 56,
                          {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 2, 56, 56, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56}));
}

TEST_F(ResponderTest, ExplainWithoutClientSubnetAddsNoneAndUsesTheSource) {
  QuerySpec spec = query("_geosteer.mirror.example.org.", kTypeTxt);
  spec.edns = test::EdnsSpec{};
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p).size(), 1u);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::ClientSubnet).has_value());
  EXPECT_EQ(dynamic.last_client.address, source);
  EXPECT_FALSE(dynamic.last_client.from_ecs);
}

TEST_F(ResponderTest, ExplainNameGivesNoDataForOtherTypes) {
  for (uint16_t type : {uint16_t{1}, kTypeAaaa, kTypeMx}) {
    Packet p = ask(query("_geosteer.mirror.example.org.", type));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(test::answer(p).empty());
    EXPECT_EQ(test::authority(p), Strings{kSoa});
  }
  EXPECT_EQ(dynamic.calls, 0);
  EXPECT_EQ(dynamic.explain_calls, 0);
}

TEST_F(ResponderTest, ExplainNoDataCarriesScopeZero) {
  Packet p = ask(with_ecs(query("_geosteer.mirror.example.org."), 1, 24, {198, 51, 100}));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::ClientSubnet),
            (Bytes{0, 1, 24, 0, 198, 51, 100}));
}

TEST_F(ResponderTest, EmptyExplanationIsNoData) {
  dynamic.explanation.clear();
  Packet p = ask(query("_geosteer.mirror.example.org.", kTypeTxt));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(test::answer(p).empty());
  EXPECT_EQ(test::authority(p), Strings{kSoa});
}

TEST_F(ResponderTest, ExplanationTooBigForUdpTruncates) {
  dynamic.explanation.assign(3, std::string(255, 'x'));
  Packet p = ask(query("_geosteer.mirror.example.org.", kTypeTxt));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(p.get()));
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_LE(response_size, 512u);
}

TEST_F(ResponderTest, ExplanationTooBigForUdpIsWholeOverTcp) {
  dynamic.explanation.assign(3, std::string(255, 'x'));
  Packet p = ask(query("_geosteer.mirror.example.org.", kTypeTxt), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  ASSERT_EQ(ldns_pkt_ancount(p.get()), 1);
  EXPECT_EQ(ldns_rr_rd_count(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0)), 3u);
}

TEST_F(ResponderTest, AnyOverTcpAtTheExplainNameGivesTheExplanation) {
  Packet p = ask(query("_geosteer.mirror.example.org.", kTypeAny), Transport::Tcp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p),
            Strings{"_geosteer.mirror.example.org. 0 IN TXT \"client as given\" \"A: m1 up\""});
}

TEST_F(ResponderTest, AnyOverUdpAtTheExplainNameIsTheRfc8482Hinfo) {
  Packet p = ask(query("_geosteer.mirror.example.org.", kTypeAny));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::answer(p), Strings{"_geosteer.mirror.example.org. 300 IN HINFO \"RFC8482\" \"\""});
  EXPECT_EQ(dynamic.explain_calls, 0);
}

// --- QueryOutcome: what happened, for metrics ----------------------------------

TEST_F(ResponderTest, OutcomeOfAnAnsweredQuery) {
  ask(with_ecs(query("mirror.example.org.", kTypeAaaa), 1, 24, {198, 51, 100}));
  EXPECT_EQ(outcome.drop, QueryOutcome::Drop::None);
  EXPECT_EQ(outcome.qtype, kTypeAaaa);
  EXPECT_EQ(outcome.rcode, wire::rcode::NoError);
  EXPECT_FALSE(outcome.truncated);
  EXPECT_TRUE(outcome.ecs);
}

TEST_F(ResponderTest, OutcomeWithoutClientSubnet) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{};
  ask(spec);
  EXPECT_FALSE(outcome.ecs);
}

TEST_F(ResponderTest, OutcomeCarriesTheResponseCode) {
  ask(query("nope.example.org.", kTypeMx));
  EXPECT_EQ(outcome.qtype, kTypeMx);
  EXPECT_EQ(outcome.rcode, wire::rcode::NxDomain);
  ask(query("www.example.net."));
  EXPECT_EQ(outcome.rcode, wire::rcode::Refused);
}

TEST_F(ResponderTest, OutcomeOfBadversIsTheExtendedCode) {
  QuerySpec spec = query("www.example.org.");
  spec.edns = test::EdnsSpec{1232, 1, false, {}};
  ask(spec);
  EXPECT_EQ(outcome.rcode, wire::rcode::BadVers);
  EXPECT_EQ(outcome.qtype, 1);
}

TEST_F(ResponderTest, OutcomeOfATruncatedResponse) {
  ask(query("big.example.org.", kTypeTxt));
  EXPECT_TRUE(outcome.truncated);
  EXPECT_EQ(outcome.qtype, kTypeTxt);
}

TEST_F(ResponderTest, OutcomeIsResetOnEveryCall) {
  ask(query("big.example.org.", kTypeTxt));
  ask(query("www.example.org."));
  EXPECT_FALSE(outcome.truncated);
  EXPECT_EQ(outcome.qtype, 1);
}

TEST_F(ResponderTest, OutcomeOfATooShortMessageIsAMalformedDrop) {
  ask(query("www.example.org."));
  ask_raw({0x12, 0x34, 0x01, 0x00, 0x00});
  EXPECT_EQ(outcome.drop, QueryOutcome::Drop::Malformed);
  EXPECT_EQ(outcome.qtype, 0);
}

TEST_F(ResponderTest, OutcomeOfAResponseIsAResponseDrop) {
  Bytes message = test::make_query(query("www.example.org."));
  message[2] |= 0x80;  // QR
  ask_raw(message);
  EXPECT_EQ(outcome.drop, QueryOutcome::Drop::Response);
  EXPECT_EQ(outcome.qtype, 0);
}

TEST_F(ResponderTest, OutcomeOfFormErrKeepsTheQtypeWhenTheQuestionWasRead) {
  Bytes message = test::make_query(query("www.example.org.", kTypeMx));
  message.push_back(0);  // trailing garbage
  ask_raw(message);
  EXPECT_EQ(outcome.drop, QueryOutcome::Drop::None);
  EXPECT_EQ(outcome.rcode, wire::rcode::FormErr);
  EXPECT_EQ(outcome.qtype, kTypeMx);
}

TEST_F(ResponderTest, OutcomeOfAnUnreadableQuestionHasQtypeZero) {
  Bytes message = header_then(1, 0, 0, 0, question_of("www.example.org."));
  message.resize(message.size() - 3);
  ask_raw(message);
  EXPECT_EQ(outcome.rcode, wire::rcode::FormErr);
  EXPECT_EQ(outcome.qtype, 0);
}

TEST_F(ResponderTest, OutcomeOfAnInvalidClientSubnetIsNoEcs) {
  ask_raw(with_ecs_query(test::ecs_option(3, 8, 0, {10})));
  EXPECT_EQ(outcome.rcode, wire::rcode::FormErr);
  EXPECT_FALSE(outcome.ecs);
}

// --- QueryOutcome: the response's class, for response rate limiting --------------

std::string wire(std::string_view text) {
  Bytes name = test::wire_name(text);
  return {name.begin(), name.end()};
}

TEST_F(ResponderTest, AnAnswerIsKeyedByTheQueryName) {
  ask(query("WWW.example.org."));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Answer);
  EXPECT_EQ(outcome.key(), wire("www.example.org."));
}

TEST_F(ResponderTest, NoDataIsItsOwnKindKeyedByTheQueryName) {
  ask(query("www.example.org.", kTypeMx));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::NoData);
  EXPECT_EQ(outcome.key(), wire("www.example.org."));
}

TEST_F(ResponderTest, AWildcardAnswerIsKeyedByTheWildcard) {
  ask(query("random1234.wild.example.org."));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Answer);
  EXPECT_EQ(outcome.key(), wire("*.wild.example.org."));
}

TEST_F(ResponderTest, AReferralIsKeyedByTheZoneCut) {
  ask(query("random1234.sub.example.org."));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Answer);
  EXPECT_EQ(outcome.key(), wire("sub.example.org."));
}

TEST_F(ResponderTest, NxDomainIsKeyedByTheZone) {
  ask(query("random1234.example.org."));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::NxDomain);
  EXPECT_EQ(outcome.key(), wire("example.org."));
}

TEST_F(ResponderTest, RefusedIsAnError) {
  ask(query("www.example.net."));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Error);
}

TEST_F(ResponderTest, FormErrIsAnError) {
  Bytes message = test::make_query(query("www.example.org."));
  message.push_back(0);
  ask_raw(message);
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Error);
}

TEST_F(ResponderTest, TheExplanationIsItsOwnKind) {
  ask(with_ecs(query("_geosteer.mirror.example.org.", kTypeTxt), 1, 24, {198, 51, 100}));
  EXPECT_EQ(outcome.kind, QueryOutcome::Kind::Explanation);
  EXPECT_EQ(outcome.key(), wire("_geosteer.mirror.example.org."));
}

// --- DNS cookies (RFC 7873, RFC 9018) ----------------------------------------------

const Bytes kClientCookie = {0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};

QuerySpec with_cookie(QuerySpec spec, Bytes cookie) {
  spec.edns = test::EdnsSpec{};
  spec.edns->options.push_back({wire::edns_option::Cookie, std::move(cookie)});
  return spec;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The server cookie we hand `client_ip` at cookie_time().
Bytes our_server_cookie(const IpAddress& client_ip) {
  auto cookie = make_server_cookie(kCookieSecret, std::span<const uint8_t, 8>(kClientCookie.data(), 8),
                                   client_ip, cookie_time());
  return {cookie.begin(), cookie.end()};
}

TEST_F(ResponderTest, AClientCookieIsAnsweredWithItAndOurServerCookie) {
  Packet p = ask(with_cookie(query("www.example.org."), kClientCookie));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::Cookie),
            concat(kClientCookie, our_server_cookie(source)));
  EXPECT_EQ(outcome.cookie, CookieStatus::ClientOnly);
}

TEST_F(ResponderTest, OurServerCookieSentBackIsValid) {
  Packet p = ask(with_cookie(query("www.example.org."), concat(kClientCookie, our_server_cookie(source))));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(outcome.cookie, CookieStatus::Valid);
}

TEST_F(ResponderTest, AServerCookieFromAnotherAddressIsAnsweredAsIfOnlyTheClientCookieWasSent) {
  Bytes foreign = concat(kClientCookie, our_server_cookie(v4(198, 51, 100, 100)));
  Packet p = ask(with_cookie(query("www.example.org."), foreign));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  EXPECT_EQ(outcome.cookie, CookieStatus::ClientOnly);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::Cookie),
            concat(kClientCookie, our_server_cookie(source)));
}

TEST_F(ResponderTest, TheCookieComesWithErrorsToo) {
  Packet p = ask(with_cookie(query("www.example.net."), kClientCookie));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
  EXPECT_TRUE(test::edns_option(p, wire::edns_option::Cookie));
}

TEST_F(ResponderTest, TwoCookieOptionsAreFormErr) {
  QuerySpec spec = with_cookie(query("www.example.org."), kClientCookie);
  spec.edns->options.push_back({wire::edns_option::Cookie, kClientCookie});
  Packet p = ask(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
}

TEST(ResponderWithoutCookieSecret, IgnoresCookies) {
  zones::ZoneSet zones = zones::ZoneBuilder::make_set({example_org()});
  FakeDynamicAnswers dynamic;
  Responder responder{zones, dynamic, ResponderOptions{"ns1.geosteer.test", 1232, std::nullopt, cookie_time}};
  std::array<uint8_t, 512> out{};
  Bytes message = test::make_query(with_cookie(QuerySpec{}, kClientCookie));
  size_t size = responder.respond(message, {Transport::Udp, v4(203, 0, 113, 7)}, out);
  Packet p = test::decode({out.data(), size});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::Cookie));
}

// RFC 7873 section 5.2.2: fewer than 8 octets, 9 to 15, or more than 40.
class ResponderMalformedCookieTest : public ResponderTest,
                                     public ::testing::WithParamInterface<size_t> {};

TEST_P(ResponderMalformedCookieTest, IsFormErrEchoingTheOptWithoutACookie) {
  Packet p = ask(with_cookie(query("www.example.org."), Bytes(GetParam(), 0x5a)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_FORMERR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::Cookie));
  EXPECT_EQ(outcome.cookie, CookieStatus::None);
}

INSTANTIATE_TEST_SUITE_P(Lengths, ResponderMalformedCookieTest,
                         ::testing::Values(0, 1, 7, 9, 15, 41, 48));

class ResponderWellFormedCookieTest : public ResponderTest,
                                      public ::testing::WithParamInterface<size_t> {};

TEST_P(ResponderWellFormedCookieTest, IsAnswered) {
  Packet p = ask(with_cookie(query("www.example.org."), Bytes(GetParam(), 0x5a)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::Cookie)->size(), kCookieOptionSize);
}

INSTANTIATE_TEST_SUITE_P(Lengths, ResponderWellFormedCookieTest, ::testing::Values(8, 16, 24, 40));

// --- wire::truncate_to_question: the slip of rate limiting ----------------------

TEST_F(ResponderTest, ATruncatedCopyKeepsTheQuestionAndSetsTc) {
  Packet full = ask(query("Www.Example.org."));
  ASSERT_NE(full, nullptr);
  size_t length = wire::truncate_to_question(buffer, response_size);
  Packet slip = test::decode({buffer.data(), length});
  ASSERT_NE(slip, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(slip.get()));
  EXPECT_TRUE(ldns_pkt_qr(slip.get()));
  EXPECT_EQ(ldns_pkt_id(slip.get()), ldns_pkt_id(full.get()));
  EXPECT_EQ(test::question_name(slip), "Www.Example.org.");
  EXPECT_EQ(ldns_pkt_ancount(slip.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(slip.get()), 0);
  EXPECT_EQ(ldns_pkt_arcount(slip.get()), 0);
}

TEST_F(ResponderTest, ATruncatedCopyKeepsTheOptRecord) {
  QuerySpec spec = query("ns1.example.org.", kTypeNs);
  spec.qname = "example.org.";
  spec.edns = test::EdnsSpec{};
  spec.edns->options = {test::nsid_option()};
  ASSERT_NE(ask(spec), nullptr);
  size_t length = wire::truncate_to_question(buffer, response_size);
  Packet slip = test::decode({buffer.data(), length});
  ASSERT_NE(slip, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(slip.get()));
  EXPECT_EQ(ldns_pkt_ancount(slip.get()), 0);
  EXPECT_EQ(ldns_pkt_edns_udp_size(slip.get()), 1232);
  EXPECT_EQ(test::edns_option(slip, 3), Bytes(std::string_view("ns1.geosteer.test").begin(),
                                               std::string_view("ns1.geosteer.test").end()));
}

TEST(ResponderWithoutOutcome, AnswersAsWithOne) {
  zones::ZoneSet zones = zones::ZoneBuilder::make_set({example_org()});
  FakeDynamicAnswers dynamic;
  Responder responder{zones, dynamic, options()};
  std::array<uint8_t, 512> out{};
  Bytes message = test::make_query(QuerySpec{});
  EXPECT_GT(responder.respond(message, {Transport::Udp, v4(203, 0, 113, 7)}, out), 0u);
}

}  // namespace
}  // namespace geosteer::dns
