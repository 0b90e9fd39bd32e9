// Steering by network, seen by dig over UDP and TCP with ECS: a micro mirror serves
// its own ISP's clients first, an ASN override sends a whole AS elsewhere, and the
// ECS scope never covers a network that would get another answer.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/ip.h"
#include "tests/integration/harness.h"

namespace geosteer::testing {
namespace {

const std::string kName = "substitutes.isp.example.org";

// asn.mmdb: 41.0.0.0/12 is AS64500 and 41.16.0.0/12 AS64501, both in Johannesburg
// (flat-ipv4.mmdb: 41.0.0.0/11); 143.107.0.0/16 is AS6939 in São Paulo.
std::string network_config() {
  return R"(server:
  listen: ["127.0.0.1:{{PORT}}"]
  identity: geosteer-network-test
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip:
  databases: ["{{FIXTURES}}/flat-ipv4.mmdb", "{{FIXTURES}}/flat-ipv6.mmdb", "{{FIXTURES}}/asn.mmdb"]
zones:
  - origin: isp.example.org.
    soa: {mname: ns1, rname: hostmaster}
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.53"]
    services:
      - name: substitutes
        mirrors: [johannesburg, south-isp, us-west]
        answers: 1
        ttl: 60
        overrides:
          asns: {AS6939: [us-west]}
mirrors:
  - {id: johannesburg, url: "https://jnb.example/", ipv4: [192.0.2.10], location: {lat: -26.20, lon: 28.04}}
  # A micro mirror inside AS64500, hosted 1,300 km away in Cape Town.
  - {id: south-isp, url: "https://mirror.south-isp.example/", ipv4: [192.0.2.20], location: {lat: -33.92, lon: 18.42},
     asns: [64500]}
  - {id: us-west, url: "https://us-west.example/", ipv4: [192.0.2.30], location: {lat: 37.42, lon: -122.08}}
)";
}

class NetworkSteering : public ::testing::Test {
 protected:
  GeosteerServer server{network_config()};

  std::vector<std::string> answer(const std::string& subnet, const std::string& transport = "") {
    return short_lines(server.dig(kName + " A +short +subnet=" + subnet + transport));
  }
};

TEST_F(NetworkSteering, ClientInTheMirrorsHomeAsGetsItThoughAnotherIsNearerOverUdp) {
  EXPECT_EQ(answer("41.1.2.0/24"), std::vector<std::string>{"192.0.2.20"});
}

TEST_F(NetworkSteering, ClientInTheMirrorsHomeAsGetsItThoughAnotherIsNearerOverTcp) {
  EXPECT_EQ(answer("41.1.2.0/24", " +tcp"), std::vector<std::string>{"192.0.2.20"});
}

TEST_F(NetworkSteering, ClientOutsideTheHomeAsGetsTheNearest) {
  EXPECT_EQ(answer("41.17.2.0/24"), std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(answer("41.17.2.0/24", " +tcp"), std::vector<std::string>{"192.0.2.10"});
}

TEST_F(NetworkSteering, AsnOverrideSendsTheWholeAsToItsMirror) {
  EXPECT_EQ(answer("143.107.9.0/24"), std::vector<std::string>{"192.0.2.30"});
}

// Every scope the server returns, for clients on both sides of the AS boundary
// inside Johannesburg: addresses sampled throughout it get the same answer.
TEST_F(NetworkSteering, EcsScopeNeverCoversANetworkThatGetsAnotherAnswer) {
  std::mt19937 random(42);
  for (const char* subnet : {"41.1.2.0/24", "41.15.255.0/24", "41.16.0.0/24", "41.30.7.0/24"}) {
    std::string out = server.dig(kName + " A +subnet=" + std::string(subnet));
    std::string ecs = dig_ecs(out);  // "41.1.2.0/24/12"
    ASSERT_FALSE(ecs.empty()) << out;
    unsigned scope = static_cast<unsigned>(std::stoul(ecs.substr(ecs.rfind('/') + 1)));
    ASSERT_GE(scope, 12u) << subnet << ": the scope reaches across the AS boundary at 41.16.0.0/12";
    std::vector<std::string> expected = short_lines(server.dig(kName + " A +short +subnet=" + std::string(subnet)));
    auto base = IpAddress::parse(std::string(subnet).substr(0, std::string(subnet).find('/')))->masked(scope);
    for (int i = 0; i < 6; ++i) {
      IpAddress inside = base;
      uint32_t host = scope >= 32 ? 0 : static_cast<uint32_t>(random()) & (0xFFFFFFFFu >> scope);
      for (int b = 0; b < 4; ++b) inside.bytes[b] |= static_cast<uint8_t>(host >> (24 - 8 * b));
      EXPECT_EQ(answer(inside.to_string() + "/32"), expected)
          << inside.to_string() << " is inside " << base.to_string() << "/" << scope << " (from " << subnet << ")";
    }
  }
}

TEST_F(NetworkSteering, ExplanationNamesTheAsAndTheTierThatDecided) {
  std::string txt = server.dig("_geosteer." + kName + " TXT +short +subnet=41.1.2.0/24");
  EXPECT_NE(txt.find("AS64500 Example South ISP"), std::string::npos) << txt;
  EXPECT_NE(txt.find("home AS64500 of south-isp"), std::string::npos) << txt;
  std::string overridden = server.dig("_geosteer." + kName + " TXT +short +subnet=143.107.9.0/24");
  EXPECT_NE(overridden.find("ASN override AS6939"), std::string::npos) << overridden;
}

// answers: 2, but only Johannesburg within 500 km of Johannesburg's clients: one
// answer, with the short failover_ttl so that the client asks again soon.
TEST(FailoverRange, ClientWithOneMirrorInRangeGetsOneAnswerWithTheFailoverTtl) {
  std::string config = network_config();
  config.replace(config.find("        answers: 1\n"), 19, "        answers: 2\n        failover_km: 500\n        failover_ttl: 15\n");
  GeosteerServer server(config);
  std::vector<std::string> answers = dig_section(server.dig(kName + " A +subnet=41.17.2.0/24"), "ANSWER");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(fields(answers[0])[1], "15") << answers[0];
  EXPECT_EQ(fields(answers[0])[4], "192.0.2.10") << answers[0];
}

}  // namespace
}  // namespace geosteer::testing
