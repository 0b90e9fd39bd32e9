// Why a client gets the mirrors it gets, in a few short lines: the address used and
// where it came from, the location and network GeoIP found, and per address family
// the mirrors chosen with their distances and health, the reason and the tier.
// One text for the `_geosteer.<service>` TXT answer and for `geosteer locate`, so
// that both say the same thing. Formatted into fixed buffers without touching the
// heap: the TXT is written on the query path.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "common/ip.h"
#include "steering/engine.h"

namespace geosteer::app {

// Receives an explanation line by line.
class LineSink {
 public:
  // A line is one TXT character-string, so at most 255 octets (RFC 1035 section 3.3).
  static constexpr size_t kMaxLine = 255;

  virtual ~LineSink() = default;
  virtual void line(std::string_view text) = 0;
};

// "client 130.149.7.0/24 from ECS", "client 127.0.0.1 from resolver"
void explain_client(const steering::Client& client, LineSink& sink);

// "location DE EU 52.5200,13.4000 AS680 DFN network 130.149.0.0/16",
// "location unknown network 100.64.0.0/10"
void explain_location(const steering::GeoResult& geo, LineSink& sink);

// "A: berlin 0km up, bordeaux 1406km up (distance, healthy, scope /16)"; a decision
// with more mirrors than one line holds goes on over several lines, each with the label.
// The reason names what decided: "home network of fcix-sjc", "ASN override AS6939".
// `client` is where GeoIP found the client: distances are measured from it.
void explain_decision(const steering::Engine& engine, const steering::Decision& decision,
                      Family family, const steering::GeoResult& client, LineSink& sink);

// Everything about `service` for `client`: client, location, A, AAAA.
void explain_service(const steering::Engine& engine, size_t service,
                     const steering::Client& client, LineSink& sink);

// Writes lines as TXT RDATA, each one a length-prefixed character-string
// (RFC 1035 section 3.3.14). A line that does not fit in what is left is dropped
// with every line after it, so the RDATA stays a whole number of strings.
class TxtRdataSink : public LineSink {
 public:
  explicit TxtRdataSink(std::span<char> out) : out_(out) {}
  void line(std::string_view text) override;
  size_t size() const { return size_; }

 private:
  std::span<char> out_;
  size_t size_ = 0;
  bool full_ = false;
};

}  // namespace geosteer::app
