// The query path must not touch the heap (dns/responder.h): every thread answers
// from fixed buffers.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "dns/responder.h"
#include "dns/wire.h"
#include "ratelimit/limiter.h"
#include "tests/dns/dns_test_support.h"
#include "tests/dns/server_fixture.h"
#include "tests/dns/tcp_client.h"
#include "tests/dns/text_zone.h"
#include "tests/support/allocation_counter.h"

namespace geosteer::dns {
namespace {

class StaticDynamicAnswers : public DynamicAnswers {
 public:
  void answer(int, Family family, const ClientSubnet&, DynamicAnswer& out) const override {
    out.addresses[0] = family == Family::V4 ? IpAddress::v4({198, 51, 100, 1})
                                            : IpAddress::v6({0x20, 0x01, 0x0d, 0xb8});
    out.count = 1;
    out.ttl = 60;
    out.scope_prefix = 24;
  }
  size_t explain(int, const ClientSubnet&, std::span<char> out) const override {
    static constexpr std::string_view kText{"\x0e" "client ECS /24"};
    if (out.size() < kText.size()) return 0;
    std::copy(kText.begin(), kText.end(), out.begin());
    return kText.size();
  }
};

class ResponderAllocationTest : public ::testing::Test {
 protected:
  static zones::Zone zone() {
    test::TextZone zone("example.org.");
    zone.add("@", 3600, "SOA ns1.example.org. hostmaster.example.org. 1 3600 600 1209600 300")
        .add("@", 3600, "NS ns1.example.org.")
        .add("ns1", 3600, "A 192.0.2.53")
        .add("alias", 300, "CNAME mirror.example.org.")
        .service("mirror", 0)
        .add("sub", 3600, "NS ns.sub.example.org.")
        .add("ns.sub", 3600, "A 192.0.2.54");
    for (int i = 0; i < 10; ++i) zone.add("big", 300, "TXT \"" + std::string(100, 'x') + "\"");
    return zone.finish();
  }

  long allocations_answering(const test::Bytes& query, Transport transport) {
    RequestInfo info{transport, IpAddress::v4({203, 0, 113, 7})};
    QueryOutcome outcome;
    testing::AllocationCounter counter;
    size_t size = responder.respond(query, info, buffer, &outcome);
    long allocations = counter.stop();
    EXPECT_GT(size, 0u);
    EXPECT_EQ(outcome.qtype, query_qtype(query));
    return allocations;
  }

  // The QTYPE of a one-question message, read back to check the outcome was filled.
  static uint16_t query_qtype(const test::Bytes& message) {
    size_t at = wire::kHeaderSize;
    while (at < message.size() && message[at] != 0) at += message[at] + 1u;
    if (at + 2 >= message.size()) return 0;
    return static_cast<uint16_t>(message[at + 1] << 8 | message[at + 2]);
  }

  static test::Bytes query(std::string qname, uint16_t qtype, bool ecs_and_nsid = true) {
    test::QuerySpec spec;
    spec.qname = std::move(qname);
    spec.qtype = qtype;
    if (ecs_and_nsid) {
      spec.edns = test::EdnsSpec{};
      spec.edns->options = {test::nsid_option(), test::ecs_option(1, 24, 0, {198, 51, 100})};
    }
    return test::make_query(spec);
  }

  zones::ZoneSet zones = zones::ZoneBuilder::make_set({zone()});
  StaticDynamicAnswers dynamic;
  Responder responder{zones, dynamic, ResponderOptions{"ns1.geosteer.test", 1232, CookieSecret{1, 2, 3}, system_unix_time}};
  std::array<uint8_t, 65535> buffer{};
};

TEST_F(ResponderAllocationTest, CnameChaseIntoAServiceDoesNotAllocate) {
  EXPECT_EQ(allocations_answering(query("Alias.Example.org.", 1), Transport::Udp), 0);
}

TEST_F(ResponderAllocationTest, NegativeAnswerDoesNotAllocate) {
  EXPECT_EQ(allocations_answering(query("nope.example.org.", 1), Transport::Udp), 0);
}

TEST_F(ResponderAllocationTest, ReferralDoesNotAllocate) {
  EXPECT_EQ(allocations_answering(query("www.sub.example.org.", 1), Transport::Udp), 0);
}

TEST_F(ResponderAllocationTest, TruncationDoesNotAllocate) {
  EXPECT_EQ(allocations_answering(query("big.example.org.", 16, false), Transport::Udp), 0);
}

TEST_F(ResponderAllocationTest, AnyOverTcpDoesNotAllocate) {
  EXPECT_EQ(allocations_answering(query("mirror.example.org.", 255), Transport::Tcp), 0);
}

TEST_F(ResponderAllocationTest, TcpKeepaliveDoesNotAllocate) {
  test::QuerySpec spec;
  spec.qname = "mirror.example.org.";
  spec.edns = test::EdnsSpec{};
  spec.edns->options = {test::keepalive_option(), test::nsid_option()};
  EXPECT_EQ(allocations_answering(test::make_query(spec), Transport::Tcp), 0);
}

TEST_F(ResponderAllocationTest, ExplanationDoesNotAllocate) {
  EXPECT_EQ(allocations_answering(query("_geosteer.mirror.example.org.", 16), Transport::Udp), 0);
}

TEST_F(ResponderAllocationTest, FormErrDoesNotAllocate) {
  test::Bytes malformed = query("www.example.org.", 1);
  malformed.push_back(0);
  EXPECT_EQ(allocations_answering(malformed, Transport::Udp), 0);
}

TEST_F(ResponderAllocationTest, AnsweringACookieDoesNotAllocate) {
  test::QuerySpec spec;
  spec.qname = "www.example.org.";
  spec.edns = test::EdnsSpec{};
  spec.edns->options = {{wire::edns_option::Cookie, test::Bytes(24, 0x5a)}};
  EXPECT_EQ(allocations_answering(test::make_query(spec), Transport::Udp), 0);
}

// The rate limiter's verdict on an answer and the slip it may turn into, as app/
// applies them after respond(): the table was made before, nothing is made now.
TEST_F(ResponderAllocationTest, RateLimitingAFloodDoesNotAllocate) {
  ratelimit::Settings settings;
  settings.responses_per_second = 5;
  settings.slip = 2;
  ratelimit::Limiter limiter(settings);
  test::Bytes flood = query("www.example.org.", 1);
  RequestInfo info{Transport::Udp, IpAddress::v4({203, 0, 113, 7})};
  int slips = 0;
  testing::AllocationCounter counter;
  for (int i = 0; i < 50; ++i) {
    QueryOutcome outcome;
    size_t length = responder.respond(flood, info, buffer, &outcome);
    ratelimit::Response response{info.source, ratelimit::ResponseClass::Answer, outcome.key(),
                                 outcome.qtype};
    if (limiter.check(response, ratelimit::Limiter::Clock::now()) == ratelimit::Verdict::Slip) {
      slips += wire::truncate_to_question(buffer, length) > 0;
    }
  }
  EXPECT_EQ(counter.stop(), 0);
  EXPECT_GT(slips, 0);
}

// The TCP path around the responder: the thread's buffers, the pooled chunk of a
// split message and the connection's timers, once warm, allocate nothing either.
class TcpServerAllocationTest : public ::testing::Test {
 protected:
  // One query whole, then one split in two segments (its start waits in a chunk).
  // Built before counting: the client side must not allocate either.
  bool ask_twice(test::TcpClient& client) {
    if (!client.send_message(query)) return false;
    if (client.read_message(response, std::chrono::seconds(2)) == 0) return false;
    uint8_t head[5] = {static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size()),
                       query[0], query[1], query[2]};
    if (!client.send_bytes(head)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a read of its own
    if (!client.send_bytes(std::span<const uint8_t>(query).subspan(3))) return false;
    return client.read_message(response, std::chrono::seconds(2)) > 0;
  }

  test::Bytes query = test::www_query(1, {test::keepalive_option()});
  std::array<uint8_t, 4096> response{};
};

TEST_F(TcpServerAllocationTest, QueriesOnAnOpenConnectionDoNotAllocate) {
  test::RunningServer server(test::loopback_options());
  test::TcpClient client(server.port());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ask_twice(client));  // warm up
  testing::AllocationCounter counter;
  bool all_answered = true;
  for (int i = 0; i < 20; ++i) all_answered = ask_twice(client) && all_answered;
  long allocations = counter.stop();
  EXPECT_TRUE(all_answered);
  EXPECT_EQ(allocations, 0);
}

}  // namespace
}  // namespace geosteer::dns
