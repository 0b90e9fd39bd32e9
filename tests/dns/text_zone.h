// Zones for the responder's tests, written as zone-file text and assembled with
// zones::ZoneBuilder, so the tests need neither a configuration nor
// compile_zones(). RDATA comes from ldns, an independent encoder.
#pragma once

// stdbool.h first: without __bool_true_false_are_defined, ldns/common.h may
// #define bool, which breaks any C++ header included after it (seen with clang).
#include <stdbool.h>

#include <ldns/ldns.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "common/dname.h"
#include "zones/zone.h"

namespace geosteer::dns::test {

class TextZone {
 public:
  // `origin` absolute, e.g. "example.org.".
  explicit TextZone(std::string_view origin)
      : origin_(canonical(origin, {})), builder_(origin_) {}

  // One record: `owner` relative to the origin ("www", "@", "*.wild") or absolute,
  // `type_and_rdata` as in a zone file ("A 192.0.2.1").
  TextZone& add(std::string_view owner, uint32_t ttl, std::string_view type_and_rdata) {
    uint16_t type = 0;
    std::string rdata = rdata_wire(type_and_rdata, type);
    builder_.add(canonical(owner, origin_), type, ttl, rdata);
    return *this;
  }

  TextZone& service(std::string_view owner, int index) {
    builder_.add_service(canonical(owner, origin_), index);
    return *this;
  }

  zones::Zone finish() { return builder_.finish(); }

 private:
  static std::string canonical(std::string_view text, std::string_view origin) {
    auto wire = dname::from_text(text, origin);
    if (!wire) throw std::invalid_argument("bad name in test zone: " + std::string(text));
    return *wire;
  }

  static std::string rdata_wire(std::string_view type_and_rdata, uint16_t& type) {
    std::string text = "x. 0 IN " + std::string(type_and_rdata);
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      throw std::invalid_argument("bad record in test zone: " + text);
    }
    type = static_cast<uint16_t>(ldns_rr_get_type(rr));
    ldns_buffer* buffer = ldns_buffer_new(512);
    ldns_rr_rdata2buffer_wire(buffer, rr);
    std::string rdata(reinterpret_cast<const char*>(ldns_buffer_begin(buffer)),
                      ldns_buffer_position(buffer));
    ldns_buffer_free(buffer);
    ldns_rr_free(rr);
    return rdata;
  }

  std::string origin_;
  zones::ZoneBuilder builder_;
};

}  // namespace geosteer::dns::test
