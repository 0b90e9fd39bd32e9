// The anycast: section: what it reads, and errors that name file:line:column.
#include <gtest/gtest.h>

#include <string>

#include "tests/zones/config_helpers.h"
#include "zones/config.h"

namespace geosteer::zones {
namespace {

std::string config(const std::string& anycast_block) {
  return "geoip: {databases: [city.mmdb]}\n"
         "zones:\n"
         "  - origin: example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n"
         "mirrors: []\n"
         "anycast: {" + anycast_block + "}\n";
}

using testing::only_error;

TEST(ConfigAnycast, IsOffWithoutTheSection) {
  std::string text = config("");
  text = text.substr(0, text.find("anycast:"));
  EXPECT_FALSE(parse_config_text(text, "test.yaml").anycast.enabled);
}

TEST(ConfigAnycast, ReadsPrefixesSocketProtocolsAndInterval) {
  auto anycast = parse_config_text(config("prefixes: [192.0.2.53/32, \"2001:db8::53/128\"], "
                                          "bird_socket: /run/bird/bird.ctl, "
                                          "protocol: [geosteer_anycast, geosteer_anycast6], "
                                          "check_interval: 500ms"),
                                   "test.yaml")
                     .anycast;
  EXPECT_TRUE(anycast.enabled);
  ASSERT_EQ(anycast.prefixes.size(), 2u);
  EXPECT_EQ(anycast.prefixes[1].to_string(), "2001:db8::53/128");
  EXPECT_EQ(anycast.protocols, (std::vector<std::string>{"geosteer_anycast", "geosteer_anycast6"}));
  EXPECT_EQ(anycast.check_interval, std::chrono::milliseconds(500));
}

TEST(ConfigAnycast, OneProtocolMayBeGivenAlone) {
  auto anycast = parse_config_text(config("prefixes: [192.0.2.53/32], protocol: geosteer_anycast"),
                                   "test.yaml")
                     .anycast;
  EXPECT_EQ(anycast.protocols, (std::vector<std::string>{"geosteer_anycast"}));
  EXPECT_EQ(anycast.bird_socket, "/run/bird/bird.ctl");
}

TEST(ConfigAnycast, APrefixWithHostBitsIsAnError) {
  EXPECT_EQ(only_error(config("prefixes: [192.0.2.53/24], protocol: p")),
            "test.yaml:7:22: error: invalid anycast prefix '192.0.2.53/24' "
            "(a network such as 192.0.2.53/32 or 2001:db8::53/128)");
}

TEST(ConfigAnycast, AMissingProtocolIsAnError) {
  EXPECT_NE(only_error(config("prefixes: [192.0.2.53/32]")).find("protocol"), std::string::npos);
}

}  // namespace
}  // namespace geosteer::zones
