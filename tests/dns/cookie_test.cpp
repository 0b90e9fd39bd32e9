// Server cookies against the examples of RFC 9018 Appendix A, and the rules of
// RFC 7873 for answering them.
#include "dns/cookie.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace geosteer::dns {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(const std::string& text) {
  Bytes out;
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
  }
  return out;
}

CookieSecret secret(const std::string& text) {
  Bytes bytes = hex(text);
  CookieSecret s{};
  std::copy(bytes.begin(), bytes.end(), s.begin());
  return s;
}

wire::CookieOption option(const std::string& client, const std::string& server = "") {
  wire::CookieOption cookie;
  cookie.present = true;
  Bytes c = hex(client), s = hex(server);
  std::copy(c.begin(), c.end(), cookie.client);
  std::copy(s.begin(), s.end(), cookie.server);
  cookie.server_length = static_cast<uint8_t>(s.size());
  return cookie;
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

Bytes server_cookie(const std::string& secret_hex, const std::string& client_hex,
                    const char* client_ip, uint32_t now) {
  Bytes client = hex(client_hex);
  auto cookie = make_server_cookie(secret(secret_hex), std::span<const uint8_t, 8>(client.data(), 8),
                                   ip(client_ip), now);
  return {cookie.begin(), cookie.end()};
}

// RFC 9018 Appendix A.1 and A.2: the IPv4 example's secret and client cookie.
const std::string kSecret4 = "e5e973e5a6b2a43f48e7dc849e37bfcf";
const std::string kClient4 = "2464c4abcf10c957";

TEST(ServerCookie, MatchesRfc9018LearningANewServerCookie) {
  EXPECT_EQ(server_cookie(kSecret4, kClient4, "198.51.100.100", 1559731985),
            hex("010000005cf79f111f8130c3eee29480"));
}

TEST(ServerCookie, MatchesRfc9018ARenewedServerCookie) {
  EXPECT_EQ(server_cookie(kSecret4, kClient4, "198.51.100.100", 1559734385),
            hex("010000005cf7a871d4a564a1442aca77"));
}

TEST(ServerCookie, MatchesRfc9018TheIpv6Examples) {
  EXPECT_EQ(server_cookie("dd3bdf9344b678b185a6f5cb60fca715", "22681ab97d52c298",
                          "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741817),
            hex("010000005cf7c57926556bd0934c72f8"));
  // The same client after the secret rolled over.
  EXPECT_EQ(server_cookie("445536bcd2513298075a5d379663c962", "22681ab97d52c298",
                          "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961),
            hex("010000005cf7c609a6bb79d16625507a"));
}

TEST(ServerCookie, AnotherServersCookieWithReservedBitsSetIsValid) {
  // RFC 9018 Appendix A.3: reserved octets are hashed as received.
  EXPECT_TRUE(server_cookie_valid(secret(kSecret4),
                                  option("fc93fc62807ddb86", "01abcdef5cf78f71a314227b6679ebf5"),
                                  ip("203.0.113.203"), 1559727985));
}

TEST(ServerCookie, IsValidForItsClientCookieAndAddressOnly) {
  auto valid = option(kClient4, "010000005cf79f111f8130c3eee29480");
  EXPECT_TRUE(server_cookie_valid(secret(kSecret4), valid, ip("198.51.100.100"), 1559731985));
  EXPECT_FALSE(server_cookie_valid(secret(kSecret4), valid, ip("198.51.100.101"), 1559731985));
  auto other_client = option("2464c4abcf10c958", "010000005cf79f111f8130c3eee29480");
  EXPECT_FALSE(server_cookie_valid(secret(kSecret4), other_client, ip("198.51.100.100"), 1559731985));
  EXPECT_FALSE(server_cookie_valid(secret("00e973e5a6b2a43f48e7dc849e37bfcf"), valid,
                                   ip("198.51.100.100"), 1559731985));
}

TEST(ServerCookie, IsValidForAnHourAndNoLonger) {
  auto cookie = option(kClient4, "010000005cf79f111f8130c3eee29480");
  EXPECT_TRUE(server_cookie_valid(secret(kSecret4), cookie, ip("198.51.100.100"), 1559731985 + 3600));
  EXPECT_FALSE(server_cookie_valid(secret(kSecret4), cookie, ip("198.51.100.100"), 1559731985 + 3601));
}

TEST(ServerCookie, FromUpToFiveMinutesInTheFutureIsValid) {
  auto cookie = option(kClient4, "010000005cf79f111f8130c3eee29480");
  EXPECT_TRUE(server_cookie_valid(secret(kSecret4), cookie, ip("198.51.100.100"), 1559731985 - 300));
  EXPECT_FALSE(server_cookie_valid(secret(kSecret4), cookie, ip("198.51.100.100"), 1559731985 - 301));
}

TEST(ServerCookie, OfAnotherVersionOrSizeIsInvalid) {
  EXPECT_FALSE(server_cookie_valid(secret(kSecret4), option(kClient4, "020000005cf79f111f8130c3eee29480"),
                                   ip("198.51.100.100"), 1559731985));
  EXPECT_FALSE(server_cookie_valid(secret(kSecret4), option(kClient4, "010000005cf79f111f8130c3"),
                                   ip("198.51.100.100"), 1559731985));
}

TEST(AnswerCookie, NoOptionIsNone) {
  uint8_t out[kCookieOptionSize];
  EXPECT_EQ(answer_cookie(secret(kSecret4), wire::CookieOption{}, ip("198.51.100.100"), 1559731985, out),
            CookieStatus::None);
}

TEST(AnswerCookie, AClientCookieAloneGetsAFreshServerCookie) {
  uint8_t out[kCookieOptionSize];
  EXPECT_EQ(answer_cookie(secret(kSecret4), option(kClient4), ip("198.51.100.100"), 1559731985, out),
            CookieStatus::ClientOnly);
  EXPECT_EQ(Bytes(std::begin(out), std::end(out)),
            hex(kClient4 + "010000005cf79f111f8130c3eee29480"));
}

TEST(AnswerCookie, AnInvalidServerCookieIsAnsweredAsIfOnlyTheClientCookieWasSent) {
  uint8_t out[kCookieOptionSize];
  EXPECT_EQ(answer_cookie(secret(kSecret4), option(kClient4, "0100000000000000ffffffffffffffff"),
                          ip("198.51.100.100"), 1559731985, out),
            CookieStatus::ClientOnly);
  EXPECT_EQ(Bytes(std::begin(out), std::end(out)),
            hex(kClient4 + "010000005cf79f111f8130c3eee29480"));
}

TEST(AnswerCookie, AValidServerCookieIsValidAndRenewed) {
  uint8_t out[kCookieOptionSize];
  EXPECT_EQ(answer_cookie(secret(kSecret4), option(kClient4, "010000005cf79f111f8130c3eee29480"),
                          ip("198.51.100.100"), 1559734385, out),
            CookieStatus::Valid);
  EXPECT_EQ(Bytes(std::begin(out), std::end(out)),
            hex(kClient4 + "010000005cf7a871d4a564a1442aca77"));
}

}  // namespace
}  // namespace geosteer::dns
