// The configuration the integration tests serve: the demo's zone and mirrors on
// the generated MMDB fixtures, plus records that exercise every answer kind.
#pragma once

#include <string>

namespace geosteer::testing {

inline std::string long_text(char c) { return std::string(250, c); }

inline std::string test_config() {
  return R"(server:
  listen: ["127.0.0.1:{{PORT}}", "[::1]:{{PORT}}"]
  identity: geosteer-test-1
  tcp_idle_timeout: 2s
metrics: {listen: "127.0.0.1:{{METRICS_PORT}}"}
geoip:
  databases: ["{{FIXTURES}}/flat-ipv4.mmdb", "{{FIXTURES}}/flat-ipv6.mmdb"]
zones:
  - origin: guix.example.org.
    ttl: 3600
    soa: {mname: ns1.guix.example.org., rname: hostmaster.guix.example.org., serial: 2026112401,
          refresh: 3600, retry: 600, expire: 1209600, minimum: 300}
    ns: [ns1.guix.example.org., ns2.guix.example.org.]
    records:
      - "ns1 IN A 192.0.2.53"
      - "ns2 IN AAAA 2001:db8::53"
      - "www 300 IN CNAME guix.gnu.org."
      - "mirror 300 IN CNAME substitutes"
      - "@ IN TXT \"mirror steering for Guix substitutes\""
      - "a.b.deep IN TXT \"deep\""
      - "*.wild IN TXT \"wildcard\""
      - "sub IN NS ns.sub"
      - "ns.sub IN A 192.0.2.99"
      - "big IN TXT \")" + long_text('a') + R"(\""
      - "big IN TXT \")" + long_text('b') + R"(\""
      - "big IN TXT \")" + long_text('c') + R"(\""
    services:
      - name: substitutes
        mirrors: [berlin, bordeaux, us-west, us-east, sao-paulo, tokyo, singapore, sydney]
        answers: 2
        ttl: 60
        fallback: [berlin, bordeaux]
        overrides:
          countries: {CN: [singapore]}
          continents: {AF: [bordeaux]}
          networks: {"203.0.113.0/24": [sydney], "2001:db8:99::/48": [tokyo]}
mirrors:
  - {id: berlin,    url: "https://ci.guix.gnu.org/",  ipv4: [141.80.181.40], location: {lat: 52.52, lon: 13.40}}
  - {id: bordeaux,  url: "https://bordeaux.guix.gnu.org/", ipv4: [192.0.2.10], ipv6: ["2001:db8:1::10"], location: {lat: 44.84, lon: -0.58}}
  - {id: us-west,   url: "https://us-west.mirror.example.net/guix/", ipv4: [198.51.100.10], ipv6: ["2001:db8:2::10"], location: {lat: 37.55, lon: -121.98}}
  - {id: us-east,   url: "https://us-east.mirror.example.net/guix/", ipv4: [198.51.100.20], ipv6: ["2001:db8:3::10"], location: {lat: 39.04, lon: -77.49}}
  - {id: sao-paulo, url: "https://br.mirror.example.net/guix/", ipv4: [198.51.100.30], location: {lat: -23.55, lon: -46.63}}
  - {id: tokyo,     url: "https://jp.mirror.example.net/guix/", ipv4: [198.51.100.40], ipv6: ["2001:db8:4::10"], location: {lat: 35.68, lon: 139.69}}
  - {id: singapore, url: "https://sg.mirror.example.net/guix/", ipv4: [198.51.100.50], location: {lat: 1.35, lon: 103.82}}
  - {id: sydney,    url: "https://au.mirror.example.net/guix/", ipv4: [198.51.100.60], location: {lat: -33.87, lon: 151.21}}
)";
}

// `config` with one more line in its server: section, such as "  threads: 1".
inline std::string with_server_setting(std::string config, const std::string& line) {
  const std::string anchor = "  tcp_idle_timeout: 2s\n";
  config.insert(config.find(anchor) + anchor.size(), line + "\n");
  return config;
}

}  // namespace geosteer::testing
