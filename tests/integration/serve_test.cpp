// The built geosteer binary on loopback, queried by dig and kdig over UDP and TCP,
// IPv4 and IPv6: every RCODE behaviour and the steering seen from a real client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <set>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {


const char* kName = "substitutes.guix.example.org";

class Serve : public ::testing::Test {
 protected:
  GeosteerServer server{test_config()};
};

// --- steering as a resolver with ECS sees it -----------------------------------

TEST_F(Serve, BerlinSubnetIsSteeredToBerlinThenBordeaux) {
  auto out = server.dig(std::string(kName) + " A +subnet=130.149.7.0/24 +short");
  EXPECT_EQ(short_lines(out), (std::vector<std::string>{"141.80.181.40", "192.0.2.10"}));
}

TEST_F(Serve, CaliforniaSubnetIsSteeredToUsWestThenUsEast) {
  auto out = server.dig(std::string(kName) + " A +subnet=8.8.8.0/24 +short");
  EXPECT_EQ(short_lines(out), (std::vector<std::string>{"198.51.100.10", "198.51.100.20"}));
}

TEST_F(Serve, TokyoSubnetIsSteeredToTokyoFirst) {
  auto out = server.dig(std::string(kName) + " A +subnet=133.11.0.0/24 +short");
  ASSERT_FALSE(short_lines(out).empty()) << out;
  EXPECT_EQ(short_lines(out)[0], "198.51.100.40");
}

TEST_F(Serve, SaoPauloSubnetIsSteeredToSaoPauloFirst) {
  auto out = server.dig(std::string(kName) + " A +subnet=143.107.45.0/24 +short");
  ASSERT_FALSE(short_lines(out).empty()) << out;
  EXPECT_EQ(short_lines(out)[0], "198.51.100.30");
}

TEST_F(Serve, AnswerCarriesServiceTtlAndAuthoritativeFlag) {
  auto out = server.dig(std::string(kName) + " A +subnet=130.149.7.0/24");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_TRUE(dig_has_flag(out, "aa"));
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 2u) << out;
  EXPECT_EQ(fields(answer[0]), (std::vector<std::string>{"substitutes.guix.example.org.", "60", "IN",
                                                          "A", "141.80.181.40"}));
}

// Berlin's /16 and the unlocated space around it (fallback: berlin, bordeaux) get
// the same answer up to 128.0.0.0/6; California's /24 is alone with its answer.
TEST_F(Serve, EcsScopeIsTheWidestNetworkWhoseAddressesGetTheSameAnswer) {
  EXPECT_EQ(dig_ecs(server.dig(std::string(kName) + " A +subnet=130.149.7.0/24")), "130.149.7.0/24/6");
  EXPECT_EQ(dig_ecs(server.dig(std::string(kName) + " A +subnet=8.8.8.0/24")), "8.8.8.0/24/24");
}

TEST_F(Serve, NetworkOverrideWinsWithItsPrefixAsScope) {
  auto out = server.dig(std::string(kName) + " A +subnet=203.0.113.0/24");
  auto lines = short_lines(server.dig(std::string(kName) + " A +subnet=203.0.113.0/24 +short"));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "198.51.100.60");
  EXPECT_EQ(dig_ecs(out), "203.0.113.0/24/24");
}

TEST_F(Serve, CountryOverrideSendsChinaToSingapore) {
  auto lines = short_lines(server.dig(std::string(kName) + " A +subnet=1.2.4.0/24 +short"));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "198.51.100.50");
}

TEST_F(Serve, ContinentOverrideSendsAfricaToBordeaux) {
  auto lines = short_lines(server.dig(std::string(kName) + " A +subnet=41.1.0.0/16 +short"));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "192.0.2.10");
}

TEST_F(Serve, EcsSourcePrefixZeroSteersByResolverWithScopeZero) {
  // 127.0.0.1 has no location: the fallback mirrors answer.
  auto out = server.dig(std::string(kName) + " A +subnet=0.0.0.0/0");
  EXPECT_EQ(dig_ecs(out), "0.0.0.0/0/0");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 2u) << out;
  EXPECT_NE(answer[0].find("141.80.181.40"), std::string::npos);
}

TEST_F(Serve, ResolverWithoutLocationGetsFallbackMirrors) {
  auto out = server.dig(std::string(kName) + " A +noedns +short");
  EXPECT_EQ(short_lines(out), (std::vector<std::string>{"141.80.181.40", "192.0.2.10"}));
}

TEST_F(Serve, AaaaOverTcpOnIpv6WithKdigSubnet) {
  auto out = server.kdig(std::string(kName) + " AAAA +tcp +subnet=2001:638:809::/48 +short", "::1");
  EXPECT_EQ(short_lines(out), (std::vector<std::string>{"2001:db8:1::10", "2001:db8:3::10"}));
}

TEST_F(Serve, KdigOverUdpEchoesScope) {
  auto out = server.kdig(std::string(kName) + " A +subnet=133.11.0.0/24");
  EXPECT_NE(out.find("133.11.0.0/24/16"), std::string::npos) << out;
  EXPECT_NE(out.find("198.51.100.40"), std::string::npos) << out;
}

TEST_F(Serve, DigOverTcpOnIpv4) {
  auto out = server.dig(std::string(kName) + " A +tcp +subnet=8.8.8.0/24 +short");
  EXPECT_EQ(short_lines(out), (std::vector<std::string>{"198.51.100.10", "198.51.100.20"}));
}

TEST_F(Serve, DigOverUdpOnIpv6) {
  auto out = server.dig(std::string(kName) + " A +subnet=130.149.7.0/24 +short", "::1");
  EXPECT_EQ(short_lines(out), (std::vector<std::string>{"141.80.181.40", "192.0.2.10"}));
}

TEST_F(Serve, SeveralQueriesOnOneTcpConnection) {
  // kdig sends every query of one invocation over the same TCP connection with +keepopen.
  auto out = server.kdig("+tcp +keepopen " + std::string(kName) + " A +subnet=8.8.8.0/24 " +
                         std::string(kName) + " A +subnet=130.149.7.0/24 guix.example.org SOA");
  EXPECT_NE(out.find("198.51.100.10"), std::string::npos) << out;
  EXPECT_NE(out.find("141.80.181.40"), std::string::npos) << out;
  EXPECT_NE(out.find("hostmaster.guix.example.org."), std::string::npos) << out;
}

TEST(ServeUnlimited, BurstOfUdpQueriesIsAnsweredInFull) {
  // More queries than one receive batch, sent back to back from one socket: every
  // one gets its own reply, matched by ID. Rate limiting is off: 200 identical
  // queries from one address within milliseconds are what it is there to stop.
  GeosteerServer server{with_server_setting(test_config(), "  rate_limit: {enabled: false}")};
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int buffer = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // 200 queries, 50 at a time: more than one receive batch in flight, without
  // relying on the default socket buffers holding the whole burst.
  constexpr int kQueries = 200;
  constexpr int kWindow = 50;
  std::set<int> answered;
  pollfd p{fd, POLLIN, 0};
  for (int id = 0; id < kQueries; ++id) {
    while (id - static_cast<int>(answered.size()) >= kWindow && poll(&p, 1, 2000) == 1) {
      uint8_t reply[512];
      ssize_t n = recv(fd, reply, sizeof reply, 0);
      if (n >= 12 && (reply[3] & 0x0F) == 0) answered.insert((reply[0] << 8) | reply[1]);
    }
    // guix.example.org SOA
    std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0, 0, 0, 1, 0, 0,
                              0, 0, 0, 0, 4, 'g', 'u', 'i', 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                              3, 'o', 'r', 'g', 0, 0, 6, 0, 1};
    sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  while (answered.size() < kQueries && poll(&p, 1, 2000) == 1) {
    uint8_t reply[512];
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n >= 12 && (reply[3] & 0x0F) == 0) answered.insert((reply[0] << 8) | reply[1]);
  }
  close(fd);
  EXPECT_EQ(answered.size(), static_cast<size_t>(kQueries));
}

// --- authoritative behaviour ---------------------------------------------------

TEST_F(Serve, QueryNameCaseIsPreserved) {
  auto out = server.dig("SuBsTiTuTeS.GuIx.ExAmPlE.OrG A +subnet=130.149.7.0/24");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_FALSE(answer.empty()) << out;
  EXPECT_EQ(answer[0].rfind("SuBsTiTuTeS.GuIx.ExAmPlE.OrG.", 0), 0u) << answer[0];
}

TEST_F(Serve, ApexSoaIsAnswered) {
  auto out = server.dig("guix.example.org SOA");
  EXPECT_EQ(dig_status(out), "NOERROR");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << out;
  EXPECT_NE(answer[0].find("ns1.guix.example.org. hostmaster.guix.example.org. 2026112401"),
            std::string::npos);
}

TEST_F(Serve, ApexNsIsAnsweredWithGlue) {
  auto out = server.dig("guix.example.org NS");
  EXPECT_EQ(dig_section(out, "ANSWER").size(), 2u) << out;
  auto additional = dig_section(out, "ADDITIONAL");
  std::string all;
  for (auto& l : additional) all += l + "\n";
  EXPECT_NE(all.find("192.0.2.53"), std::string::npos) << out;
  EXPECT_NE(all.find("2001:db8::53"), std::string::npos) << out;
}

TEST_F(Serve, NxdomainCarriesSoaInAuthority) {
  auto out = server.dig("nope.guix.example.org A");
  EXPECT_EQ(dig_status(out), "NXDOMAIN");
  EXPECT_TRUE(dig_has_flag(out, "aa"));
  auto authority = dig_section(out, "AUTHORITY");
  ASSERT_EQ(authority.size(), 1u) << out;
  auto soa = fields(authority[0]);
  ASSERT_GE(soa.size(), 4u);
  EXPECT_EQ(soa[1], "300");  // min(SOA TTL 3600, minimum 300), RFC 2308
  EXPECT_EQ(soa[3], "SOA");
}

TEST_F(Serve, NodataCarriesSoaInAuthority) {
  auto out = server.dig("ns1.guix.example.org AAAA");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_TRUE(dig_section(out, "ANSWER").empty());
  EXPECT_EQ(dig_section(out, "AUTHORITY").size(), 1u) << out;
}

TEST_F(Serve, ServiceNameGivesNodataForOtherTypes) {
  auto out = server.dig(std::string(kName) + " MX");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_TRUE(dig_section(out, "ANSWER").empty());
}

TEST_F(Serve, EmptyNonTerminalIsNodataNotNxdomain) {
  auto out = server.dig("b.deep.guix.example.org TXT");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_TRUE(dig_section(out, "ANSWER").empty());
}

TEST_F(Serve, CnameIsAnsweredForOtherTypes) {
  auto out = server.dig("www.guix.example.org A");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << out;
  auto cname = fields(answer[0]);
  EXPECT_EQ(cname.at(3), "CNAME");
  EXPECT_EQ(cname.at(4), "guix.gnu.org.");
}

TEST_F(Serve, CnameToServiceIsFollowedIntoSteeredAnswer) {
  auto out = server.dig("mirror.guix.example.org A +subnet=8.8.8.0/24");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 3u) << out;
  EXPECT_NE(answer[1].find("198.51.100.10"), std::string::npos) << out;
}

TEST_F(Serve, WildcardSynthesisesTheQueryName) {
  auto out = server.dig("anything.wild.guix.example.org TXT");
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << out;
  EXPECT_EQ(answer[0].rfind("anything.wild.guix.example.org.", 0), 0u);
}

TEST_F(Serve, DelegationGivesReferralWithGlue) {
  auto out = server.dig("host.sub.guix.example.org A");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_FALSE(dig_has_flag(out, "aa"));
  EXPECT_TRUE(dig_section(out, "ANSWER").empty());
  ASSERT_EQ(dig_section(out, "AUTHORITY").size(), 1u) << out;
  ASSERT_EQ(dig_section(out, "ADDITIONAL").size(), 1u) << out;
}

TEST_F(Serve, NameOutsideEveryZoneIsRefused) {
  auto out = server.dig("example.com A");
  EXPECT_EQ(dig_status(out), "REFUSED");
  EXPECT_FALSE(dig_has_flag(out, "aa"));
}

TEST_F(Serve, NotifyOpcodeIsNotImplemented) {
  auto out = server.dig("guix.example.org SOA +opcode=notify");
  EXPECT_EQ(dig_status(out), "NOTIMP");
}

TEST_F(Serve, MalformedQueryGetsFormerr) {
  // Header claims one question, but the question name runs past the end.
  std::vector<uint8_t> query = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 10, 'g', 'u'};
  auto reply = server.udp_exchange(query);
  ASSERT_GE(reply.size(), 12u);
  EXPECT_EQ(reply[0], 0xab);
  EXPECT_EQ(reply[1], 0xcd);
  EXPECT_EQ(reply[3] & 0x0F, 1);  // FORMERR
}

TEST_F(Serve, ResponsesSentToTheServerAreDropped) {
  std::vector<uint8_t> response = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
  EXPECT_TRUE(server.udp_exchange(response, std::chrono::milliseconds(300)).empty());
}

TEST_F(Serve, InvalidEcsOptionGetsFormerr) {
  // FAMILY 3 does not exist (RFC 7871 section 6).
  auto out = server.dig(std::string(kName) + " A +ednsopt=8:0003180000");
  EXPECT_EQ(dig_status(out), "FORMERR");
}

TEST_F(Serve, EdnsVersionOneGetsBadvers) {
  auto out = server.dig(std::string(kName) + " A +edns=1 +noednsnegotiation");
  EXPECT_EQ(dig_status(out), "BADVERS");
}

TEST_F(Serve, EdnsPayloadSizeOfServerIsAdvertised) {
  auto out = server.dig("guix.example.org SOA +bufsize=4096");
  EXPECT_NE(out.find("udp: 1232"), std::string::npos) << out;
}

TEST_F(Serve, LargeAnswerIsTruncatedOverUdpWithoutEdns) {
  auto out = server.dig("big.guix.example.org TXT +noedns +ignore");
  EXPECT_TRUE(dig_has_flag(out, "tc")) << out;
  EXPECT_TRUE(dig_section(out, "ANSWER").empty());
}

TEST_F(Serve, LargeAnswerFitsWithEdns) {
  auto out = server.dig("big.guix.example.org TXT +bufsize=1232 +ignore");
  EXPECT_FALSE(dig_has_flag(out, "tc")) << out;
  EXPECT_EQ(dig_section(out, "ANSWER").size(), 3u);
}

TEST_F(Serve, LargeAnswerIsCompleteOverTcp) {
  auto out = server.dig("big.guix.example.org TXT +noedns +tcp");
  EXPECT_FALSE(dig_has_flag(out, "tc"));
  EXPECT_EQ(dig_section(out, "ANSWER").size(), 3u);
}

TEST_F(Serve, AnyOverUdpIsAnsweredWithRfc8482Hinfo) {
  auto out = server.dig("guix.example.org ANY +notcp");  // dig sends ANY over TCP by default
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << out;
  auto hinfo = fields(answer[0]);
  EXPECT_EQ(hinfo.at(3), "HINFO");
  EXPECT_EQ(hinfo.at(4), "\"RFC8482\"");
}

TEST_F(Serve, AnyOverTcpListsEveryRrset) {
  auto out = server.dig("guix.example.org ANY +tcp");
  EXPECT_GE(dig_section(out, "ANSWER").size(), 4u) << out;  // SOA, 2 NS, TXT
}

TEST_F(Serve, ZoneTransferIsRefused) {
  // kdig names the RCODE of a failed transfer; dig only says that it failed.
  auto out = server.kdig("guix.example.org AXFR");
  EXPECT_NE(out.find("server replied with error 'REFUSED'"), std::string::npos) << out;
}

TEST_F(Serve, ChaosIdServerGivesIdentity) {
  auto out = server.dig("id.server CH TXT +short");
  EXPECT_EQ(short_lines(out), std::vector<std::string>{"\"geosteer-test-1\""});
}

TEST_F(Serve, ChaosHostnameBindGivesIdentity) {
  auto out = server.dig("hostname.bind CH TXT +short");
  EXPECT_EQ(short_lines(out), std::vector<std::string>{"\"geosteer-test-1\""});
}

TEST_F(Serve, NsidGivesIdentity) {
  auto out = server.dig("guix.example.org SOA +nsid");
  EXPECT_NE(out.find("geosteer-test-1"), std::string::npos) << out;
}

// --- _geosteer.<service>: answers that explain themselves ------------------------

const char* kExplainName = "_geosteer.substitutes.guix.example.org";

// The character-strings of the TXT records in dig's output, unquoted.
std::vector<std::string> txt_strings(const std::string& output) {
  std::vector<std::string> strings;
  std::regex quoted(R"re("((?:[^"\\]|\\.)*)")re");
  for (const std::string& line : dig_section(output, "ANSWER")) {
    for (std::sregex_iterator it(line.begin(), line.end(), quoted), end; it != end; ++it) {
      strings.push_back((*it)[1]);
    }
  }
  return strings;
}

TEST_F(Serve, ExplainTxtSaysWhyABerlinClientGetsBerlin) {
  auto out = server.dig(std::string(kExplainName) + " TXT +subnet=130.149.7.0/24");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_TRUE(dig_has_flag(out, "aa"));
  auto answer = dig_section(out, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << out;
  auto rr = fields(answer[0]);
  EXPECT_EQ(rr.at(0), std::string(kExplainName) + ".");
  EXPECT_EQ(rr.at(1), "0");  // never cached
  EXPECT_EQ(rr.at(3), "TXT");
  auto strings = txt_strings(out);
  ASSERT_EQ(strings.size(), 4u) << out;
  EXPECT_EQ(strings[0], "client 130.149.7.0/24 from ECS");
  EXPECT_EQ(strings[1], "location DE EU 52.5200,13.4000 network 130.149.0.0/16");
  EXPECT_EQ(strings[2].rfind("A: berlin 0km up, bordeaux ", 0), 0u) << strings[2];
  EXPECT_NE(strings[2].find("(distance, healthy, scope /6)"), std::string::npos) << strings[2];
  EXPECT_EQ(strings[3].rfind("AAAA: bordeaux ", 0), 0u) << strings[3];
}

TEST_F(Serve, ExplainTxtScopeIsTheSourcePrefix) {
  // The A answer for this client has scope 16; its explanation holds the /24 itself.
  auto out = server.dig(std::string(kExplainName) + " TXT +subnet=130.149.7.0/24");
  EXPECT_EQ(dig_ecs(out), "130.149.7.0/24/24");
}

TEST_F(Serve, ExplainTxtWithoutEcsExplainsTheResolver) {
  auto strings = txt_strings(server.dig(std::string(kExplainName) + " TXT"));
  ASSERT_EQ(strings.size(), 4u);
  EXPECT_EQ(strings[0], "client 127.0.0.1 from resolver");
  EXPECT_EQ(strings[1].rfind("location unknown network ", 0), 0u) << strings[1];
  EXPECT_EQ(strings[2].rfind("A: berlin up, bordeaux up (fallback, healthy", 0), 0u) << strings[2];
}

TEST_F(Serve, ExplainTxtOverIpv6Tcp) {
  auto out = server.kdig(std::string(kExplainName) + " TXT +tcp +subnet=2001:638:809::/48", "::1");
  EXPECT_NE(out.find("client 2001:638:809::/48 from ECS"), std::string::npos) << out;
  EXPECT_NE(out.find("2001:638:809::/48/48"), std::string::npos) << out;
}

TEST_F(Serve, ExplainNameGivesNodataForA) {
  auto out = server.dig(std::string(kExplainName) + " A +subnet=130.149.7.0/24");
  EXPECT_EQ(dig_status(out), "NOERROR");
  EXPECT_TRUE(dig_section(out, "ANSWER").empty());
  EXPECT_EQ(dig_section(out, "AUTHORITY").size(), 1u) << out;
  EXPECT_EQ(dig_ecs(out), "130.149.7.0/24/0");
}

TEST_F(Serve, LocateShowsTheSameExplanationAsTheTxt) {
  auto strings = txt_strings(server.dig(std::string(kExplainName) + " TXT +subnet=130.149.7.0/24"));
  ASSERT_EQ(strings.size(), 4u);
  auto locate = run_command(std::string(GEOSTEER_BINARY) + " locate -c " + server.config_path() +
                            " 130.149.7.0/24");
  ASSERT_EQ(locate.status, 0) << locate.output;
  for (const std::string& text : strings) {
    EXPECT_NE(locate.output.find(text + "\n"), std::string::npos) << text << "\n" << locate.output;
  }
}

// --- operations ---------------------------------------------------------------

TEST_F(Serve, SighupReloadsChangedConfiguration) {
  std::string changed = test_config();
  changed.replace(changed.find("answers: 2"), 10, "answers: 3");
  server.rewrite_config(changed);
  server.send_signal(SIGHUP);
  std::vector<std::string> lines;
  for (int i = 0; i < 50 && lines.size() != 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lines = short_lines(server.dig(std::string(kName) + " A +subnet=130.149.7.0/24 +short"));
  }
  EXPECT_EQ(lines.size(), 3u) << server.log();
}

TEST_F(Serve, SighupWithBrokenConfigurationKeepsServing) {
  server.rewrite_config("zones: [oops\n");
  server.send_signal(SIGHUP);
  for (int i = 0; i < 100 && server.log().find("reload failed") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(server.running());
  auto out = server.dig(std::string(kName) + " A +subnet=130.149.7.0/24 +short");
  EXPECT_EQ(short_lines(out).size(), 2u);
  EXPECT_NE(server.log().find("reload failed"), std::string::npos) << server.log();
}

TEST_F(Serve, IdleTcpConnectionIsClosedAfterTimeout) {
  // The test config sets tcp_idle_timeout: 2s; a silent client is disconnected
  // then, not at once and not never.
  auto start = std::chrono::steady_clock::now();
  auto result = run_command("timeout 6 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                            std::to_string(server.port()) + "; cat <&3 >/dev/null; echo closed'");
  auto held = std::chrono::steady_clock::now() - start;
  EXPECT_NE(result.output.find("closed"), std::string::npos) << result.output;
  EXPECT_EQ(result.status, 0);
  EXPECT_GE(held, std::chrono::milliseconds(1900));
}

// The README's way to update a GeoIP database: write the new file next to the old,
// rename it over, SIGHUP. The replaced file must then be unmapped, by every query
// thread, answering or idle, not kept mapped as "(deleted)" for the process's life.
TEST(ServeGeoipUpdate, ReplacedDatabaseIsUnmappedAfterReload) {
  std::string copy = write_temp_file("geo-v4.mmdb", "");
  ASSERT_EQ(run_command("cp " + fixture("flat-ipv4.mmdb") + " " + copy).status, 0);
  std::string config = test_config();
  const std::string original = "{{FIXTURES}}/flat-ipv4.mmdb";
  config.replace(config.find(original), original.size(), copy);
  GeosteerServer server(config);
  auto mapped_deleted = [&] {
    std::ifstream maps("/proc/" + std::to_string(server.pid()) + "/maps");
    std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
    return text.find("geo-v4.mmdb (deleted)") != std::string::npos;
  };
  for (int i = 0; i < 4; ++i) server.dig(std::string(kName) + " A +subnet=130.149.7.0/24 +short");
  ASSERT_EQ(run_command("cp " + fixture("flat-ipv4.mmdb") + " " + copy + ".new && mv " + copy + ".new " +
                        copy).status, 0);
  server.send_signal(SIGHUP);
  for (int i = 0; i < 100 && server.log().find("reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(server.log().find("reloaded"), std::string::npos) << server.log();
  bool still_mapped = true;
  for (int i = 0; i < 40 && (still_mapped = mapped_deleted()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(still_mapped) << "the replaced GeoIP file is still mapped two seconds after the reload";
  EXPECT_EQ(short_lines(server.dig(std::string(kName) + " A +subnet=130.149.7.0/24 +short")).size(), 2u);
}

}  // namespace
}  // namespace geosteer::testing
