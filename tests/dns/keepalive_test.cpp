// RFC 7828 edns-tcp-keepalive in the responder: the idle timeout told over TCP,
// never over UDP, and a query option carrying a TIMEOUT judged by transport.
#include <gtest/gtest.h>

#include <array>

#include "dns/responder.h"
#include "dns/wire.h"
#include "tests/dns/dns_test_support.h"
#include "tests/dns/example_zone.h"

namespace geosteer::dns {
namespace {

using test::Bytes;
using test::Packet;
using test::QuerySpec;

class KeepaliveTest : public ::testing::Test {
 protected:
  static QuerySpec query(std::vector<test::EdnsOptionSpec> options) {
    QuerySpec spec;
    spec.qname = "www.example.org.";
    spec.edns = test::EdnsSpec{};
    spec.edns->options = std::move(options);
    return spec;
  }

  Packet ask(const QuerySpec& spec, Transport transport, uint16_t keepalive = 0) {
    RequestInfo info{transport, IpAddress::v4({203, 0, 113, 7}), keepalive};
    size_t size = responder.respond(test::make_query(spec), info, buffer);
    if (size == 0) return nullptr;
    return test::decode({buffer.data(), size});
  }

  test::ExampleOrgResponder example;
  const Responder& responder = example.responder;
  std::array<uint8_t, 65535> buffer{};
};

TEST_F(KeepaliveTest, OverTcpTheIdleTimeoutIsToldInUnitsOf100Milliseconds) {
  Packet p = ask(query({test::keepalive_option()}), Transport::Tcp, 6000);  // 10 minutes
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::TcpKeepalive), (Bytes{0x17, 0x70}));
}

TEST_F(KeepaliveTest, TimeoutIsSentWithItsHighOctetFirst) {
  Packet p = ask(query({test::keepalive_option()}), Transport::Tcp, 0x0102);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::edns_option(p, wire::edns_option::TcpKeepalive), (Bytes{0x01, 0x02}));
}

TEST_F(KeepaliveTest, SentAlongsideOtherOptions) {
  Packet p = ask(query({test::nsid_option(), test::keepalive_option()}), Transport::Tcp, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(test::edns_option(p, wire::edns_option::Nsid).has_value());
  EXPECT_EQ(test::edns_option(p, wire::edns_option::TcpKeepalive), (Bytes{0x00, 0x64}));
}

// Every option the responder can send at once: the OPT plan has room for all four.
TEST_F(KeepaliveTest, SentWithACookieNsidAndClientSubnetAllTogether) {
  Responder with_cookies{example.zones, example.dynamic,
                         ResponderOptions{"ns1.geosteer.test", 1232, CookieSecret{1, 2},
                                          system_unix_time}};
  QuerySpec spec = query({{wire::edns_option::Cookie, Bytes(8, 0x5a)}, test::nsid_option(),
                          test::ecs_option(1, 24, 0, {198, 51, 100}), test::keepalive_option()});
  RequestInfo info{Transport::Tcp, IpAddress::v4({203, 0, 113, 7}), 100};
  size_t size = with_cookies.respond(test::make_query(spec), info, buffer);
  ASSERT_GT(size, 0u);
  Packet p = test::decode({buffer.data(), size});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  ASSERT_TRUE(test::edns_option(p, wire::edns_option::Cookie).has_value());
  EXPECT_EQ(test::edns_option(p, wire::edns_option::Cookie)->size(), 24u);
  EXPECT_TRUE(test::edns_option(p, wire::edns_option::Nsid).has_value());
  EXPECT_TRUE(test::edns_option(p, wire::edns_option::ClientSubnet).has_value());
  EXPECT_EQ(test::edns_option(p, wire::edns_option::TcpKeepalive), (Bytes{0x00, 0x64}));
}

TEST_F(KeepaliveTest, NotSentOverTcpUnlessTheQueryCarriesIt) {
  Packet p = ask(query({}), Transport::Tcp, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::TcpKeepalive).has_value());
}

TEST_F(KeepaliveTest, NeverSentOverUdp) {
  Packet p = ask(query({test::keepalive_option()}), Transport::Udp, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::TcpKeepalive).has_value());
}

TEST_F(KeepaliveTest, QueryWithATimeoutOverTcpIsFormErrWithTheOpt) {
  Packet p = ask(query({test::keepalive_option({0x00, 0x64})}), Transport::Tcp, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  EXPECT_NE(ldns_pkt_edns(p.get()), 0);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::TcpKeepalive).has_value());
}

TEST_F(KeepaliveTest, QueryWithATimeoutOverUdpIsIgnoredAndAnswered) {
  Packet p = ask(query({test::keepalive_option({0x00, 0x64})}), Transport::Udp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  EXPECT_FALSE(test::edns_option(p, wire::edns_option::TcpKeepalive).has_value());
}

}  // namespace
}  // namespace geosteer::dns
