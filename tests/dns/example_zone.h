// The smallest setting for the responder's tests: one zone, example.org. (SOA, NS and
// www A 192.0.2.1), and no steered names, for what the responder does around an
// answer (EDNS options, TSIG, errors).
#pragma once

#include "dns/responder.h"
#include "tests/dns/text_zone.h"

namespace geosteer::dns::test {

class NoDynamicAnswers : public DynamicAnswers {
 public:
  void answer(int, Family, const ClientSubnet&, DynamicAnswer&) const override {}
  size_t explain(int, const ClientSubnet&, std::span<char>) const override { return 0; }
};

inline zones::Zone example_org_zone() {
  TextZone zone("example.org.");
  zone.add("@", 3600, "SOA ns1.example.org. hostmaster.example.org. 1 3600 600 1209600 300")
      .add("@", 3600, "NS ns1.example.org.")
      .add("www", 300, "A 192.0.2.1");
  return zone.finish();
}

// A responder answering from example_org_zone() with a 1232-octet UDP payload.
struct ExampleOrgResponder {
  zones::ZoneSet zones = zones::ZoneBuilder::make_set({example_org_zone()});
  NoDynamicAnswers dynamic;
  Responder responder{zones, dynamic,
                      ResponderOptions{"ns1.geosteer.test", 1232, std::nullopt, system_unix_time}};
};

}  // namespace geosteer::dns::test
