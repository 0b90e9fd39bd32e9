// `server.rate_limit`, `server.cookie_secret` and `server.drain_time`: defaults, values, and errors that
// name file:line:column.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/zones/config_helpers.h"
#include "zones/config.h"

namespace geosteer::zones {
namespace {

// The server block is the flow mapping on line 1; its contents start at column 10.
std::string config(const std::string& server_block) {
  return "server: {" + server_block + "}\n"
         "geoip: {databases: [city.mmdb]}\n"
         "zones:\n"
         "  - origin: example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "mirrors:\n"
         "  - {id: berlin, url: \"https://berlin.example/\", ipv4: [192.0.2.1]}\n";
}

using testing::only_error;

TEST(ConfigRateLimit, IsOnByDefaultAtAHundredResponsesPerSecondPerNetwork) {
  ratelimit::Settings s = parse_config_text(config(""), "test.yaml").server.rate_limit;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.responses_per_second, 100u);
  EXPECT_EQ(s.window, std::chrono::seconds(15));
  EXPECT_EQ(s.slip, 2u);
  EXPECT_EQ(s.ipv4_prefix, 24);
  EXPECT_EQ(s.ipv6_prefix, 56);
  EXPECT_TRUE(s.exempt.empty());
}

TEST(ConfigRateLimit, ReadsEveryKey) {
  ratelimit::Settings s =
      parse_config_text(config("rate_limit: {enabled: false, responses_per_second: 20, "
                               "window: 5s, slip: 0, ipv4_prefix: 32, ipv6_prefix: 64, "
                               "exempt: [192.0.2.0/24, \"2001:db8::/32\", 198.51.100.7]}"),
                        "test.yaml")
          .server.rate_limit;
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.responses_per_second, 20u);
  EXPECT_EQ(s.window, std::chrono::seconds(5));
  EXPECT_EQ(s.slip, 0u);
  EXPECT_EQ(s.ipv4_prefix, 32);
  EXPECT_EQ(s.ipv6_prefix, 64);
  EXPECT_EQ(s.exempt, (std::vector<IpPrefix>{*IpPrefix::parse("192.0.2.0/24"),
                                             *IpPrefix::parse("2001:db8::/32"),
                                             *IpPrefix::parse("198.51.100.7/32")}));
}

TEST(ConfigRateLimit, UnknownKeySuggestsTheClosestOne) {
  EXPECT_EQ(only_error(config("rate_limit: {responses_per_secnd: 20}")),
            "test.yaml:1:23: error: unknown key 'responses_per_secnd' in rate_limit (did you "
            "mean 'responses_per_second'?)");
}

TEST(ConfigRateLimit, RateOfZeroIsAnError) {
  EXPECT_EQ(only_error(config("rate_limit: {responses_per_second: 0}")),
            "test.yaml:1:45: error: 'responses_per_second' must be between 1 and 1000000, got 0");
}

TEST(ConfigRateLimit, SlipAboveTenIsAnError) {
  EXPECT_EQ(only_error(config("rate_limit: {slip: 11}")),
            "test.yaml:1:29: error: 'slip' must be between 0 and 10, got 11");
}

TEST(ConfigRateLimit, WindowMustBeWholeSeconds) {
  EXPECT_EQ(only_error(config("rate_limit: {window: 1500ms}")),
            "test.yaml:1:31: error: 'window' must be whole seconds from 1s to 1h (e.g. window: "
            "15s)");
}

TEST(ConfigRateLimit, PrefixLongerThanTheFamilyIsAnError) {
  EXPECT_EQ(only_error(config("rate_limit: {ipv4_prefix: 33}")),
            "test.yaml:1:36: error: 'ipv4_prefix' must be between 8 and 32, got 33");
}

TEST(ConfigRateLimit, ExemptNetworkWithHostBitsSuggestsTheNetwork) {
  EXPECT_EQ(only_error(config("rate_limit: {exempt: [192.0.2.1/24]}")),
            "test.yaml:1:32: error: network '192.0.2.1/24' has bits set past its prefix length "
            "(did you mean 192.0.2.0/24?)");
}

TEST(ConfigRateLimit, ExemptEntryThatIsNoNetworkIsAnError) {
  EXPECT_EQ(only_error(config("rate_limit: {exempt: [resolvers]}")),
            "test.yaml:1:32: error: invalid network 'resolvers' (expected a prefix such as "
            "192.0.2.0/24 or 2001:db8::/48, or an address)");
}

TEST(ConfigCookieSecret, IsAbsentByDefault) {
  EXPECT_FALSE(parse_config_text(config(""), "test.yaml").server.cookie_secret);
}

TEST(ConfigCookieSecret, IsReadAsHex) {
  auto secret = parse_config_text(config("cookie_secret: e5e973e5a6b2a43f48e7dc849e37bfcf"),
                                  "test.yaml")
                    .server.cookie_secret;
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, (std::array<uint8_t, 16>{0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
                                               0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf}));
}

TEST(ConfigCookieSecret, ShorterThan128BitsIsAnError) {
  EXPECT_EQ(only_error(config("cookie_secret: e5e973e5a6b2a43f")),
            "test.yaml:1:25: error: 'cookie_secret' must be 32 hexadecimal digits (128 bits) "
            "(e.g. the output of: openssl rand -hex 16)");
}

TEST(ConfigCookieSecret, NonHexDigitIsAnError) {
  EXPECT_EQ(only_error(config("cookie_secret: g5e973e5a6b2a43f48e7dc849e37bfcf")),
            "test.yaml:1:25: error: 'cookie_secret' must be 32 hexadecimal digits (128 bits) "
            "(e.g. the output of: openssl rand -hex 16)");
}

TEST(ConfigDrainTime, IsFiveSecondsByDefault) {
  EXPECT_EQ(parse_config_text(config(""), "test.yaml").server.drain_time, std::chrono::seconds(5));
}

TEST(ConfigDrainTime, ZeroStopsAtOnce) {
  EXPECT_EQ(parse_config_text(config("drain_time: 0s"), "test.yaml").server.drain_time,
            std::chrono::milliseconds(0));
}

TEST(ConfigDrainTime, LongerThanTenMinutesIsAnError) {
  EXPECT_EQ(only_error(config("drain_time: 11m")),
            "test.yaml:1:22: error: 'drain_time' must be at most 10m (e.g. drain_time: 5s, or 0s to "
            "stop at once)");
}

TEST(ConfigControlSocket, IsUnderRunGeosteerByDefault) {
  auto server = parse_config_text(config(""), "test.yaml").server;
  EXPECT_EQ(server.control_socket, "/run/geosteer/control.sock");
  EXPECT_FALSE(server.control_socket_set);
  EXPECT_EQ(server.state_dir, "/var/lib/geosteer");
}

TEST(ConfigControlSocket, AnEmptyPathMeansNone) {
  auto server = parse_config_text(config("control_socket: \"\""), "test.yaml").server;
  EXPECT_EQ(server.control_socket, "");
  EXPECT_TRUE(server.control_socket_set);
}

TEST(ConfigControlSocket, ARelativePathIsAnError) {
  EXPECT_EQ(only_error(config("control_socket: geosteer.sock")),
            "test.yaml:1:26: error: 'control_socket' must be an absolute path, or \"\" for none "
            "(e.g. control_socket: /run/geosteer/control.sock)");
}

TEST(ConfigStateDir, ARelativePathIsAnError) {
  EXPECT_EQ(only_error(config("state_dir: state")),
            "test.yaml:1:21: error: 'state_dir' must be an absolute path (e.g. state_dir: /var/lib/geosteer)");
}

TEST(ConfigUser, NamesAUserOfThisSystem) {
  EXPECT_EQ(parse_config_text(config("user: nobody"), "test.yaml").server.user, "nobody");
}

TEST(ConfigUser, AnUnknownUserIsAnError) {
  EXPECT_EQ(only_error(config("user: no-such-user-here")),
            "test.yaml:1:16: error: no user 'no-such-user-here' on this system (create it "
            "(useradd --system geosteer), or leave 'user' out to stay who started the server)");
}

}  // namespace
}  // namespace geosteer::zones
