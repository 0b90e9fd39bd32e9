#include "app/explanation.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "healthcheck/state.h"

namespace geosteer::app {
namespace {

// One line being formatted: printf-style appends into a fixed buffer, cut at
// LineSink::kMaxLine octets.
class Line {
 public:
  explicit Line(std::string_view start = {}) { append_text(start); }

  [[gnu::format(printf, 2, 3)]] void append(const char* format, ...) {
    va_list args;
    va_start(args, format);
    int written = std::vsnprintf(text_ + length_, sizeof text_ - length_, format, args);
    va_end(args);
    if (written > 0) length_ = std::min(length_ + static_cast<size_t>(written), LineSink::kMaxLine);
  }

  void append_text(std::string_view text) {
    size_t count = std::min(text.size(), LineSink::kMaxLine - length_);
    if (count == 0) return;  // an empty view may have no data at all: memcpy(nullptr) is UB
    std::memcpy(text_ + length_, text.data(), count);
    length_ += count;
  }

  size_t size() const { return length_; }
  std::string_view text() const { return {text_, length_}; }

 private:
  char text_[LineSink::kMaxLine + 1] = {};  // + the NUL vsnprintf always writes
  size_t length_ = 0;
};

// The address in presentation form, into the caller's buffer: IpAddress::to_string()
// would allocate.
const char* address_text(const IpAddress& address, char (&buffer)[INET6_ADDRSTRLEN]) {
  int family = address.family == Family::V4 ? AF_INET : AF_INET6;
  if (inet_ntop(family, address.bytes.data(), buffer, sizeof buffer) == nullptr) buffer[0] = '\0';
  return buffer;
}

// "berlin 0km up"; without client coordinates there is no distance to give.
Line mirror_text(const steering::Engine& engine, uint16_t index, Family family,
                 const steering::Location& client) {
  const steering::Mirror& mirror = engine.mirrors()[index];
  Line piece;
  piece.append("%s", mirror.id.c_str());
  if (client.coordinates) {
    piece.append(" %.0fkm", steering::Engine::distance_km(*client.coordinates, mirror.location));
  }
  piece.append(" %s", healthcheck::to_string(engine.verdict(index, family)));
  return piece;
}

// Appends `separator` and `piece` to `line`, first sending the line to `sink` and
// starting a new one with `label` when the piece would make it too long.
void add_piece(Line& line, std::string_view label, std::string_view separator,
               const Line& piece, LineSink& sink) {
  bool too_long = line.size() + separator.size() + piece.size() > LineSink::kMaxLine;
  if (too_long && line.size() > label.size()) {
    sink.line(line.text());
    line = Line(label);
    separator = " ";
  }
  line.append_text(separator);
  line.append_text(piece.text());
}

// "(home network of fcix-sjc, spread by weight, healthy, scope /20)".
Line why_text(const steering::Engine& engine, const steering::Decision& decision,
              const steering::GeoResult& client) {
  using steering::Reason;
  const char* first = engine.mirrors()[decision.mirrors[0]].id.c_str();
  Line why("(");
  switch (decision.reason) {
    case Reason::HomeNetwork: why.append("home network of %s", first); break;
    case Reason::HomeAsn: why.append("home AS%u of %s", client.asn, first); break;
    case Reason::AsnOverride: why.append("ASN override AS%u", client.asn); break;
    default: why.append("%s", steering::to_string(decision.reason)); break;
  }
  if (decision.spread) why.append(", spread by weight");
  if (decision.short_of_failover) why.append(", no other within failover_km");
  why.append(", %s, scope /%u)", steering::to_string(decision.tier), unsigned{decision.scope_prefix});
  return why;
}

}  // namespace

void explain_client(const steering::Client& client, LineSink& sink) {
  char address[INET6_ADDRSTRLEN];
  Line line;
  if (client.from_ecs) {
    line.append("client %s/%u from ECS", address_text(client.address, address),
                unsigned{client.source_prefix});
  } else {
    line.append("client %s from resolver", address_text(client.address, address));
  }
  sink.line(line.text());
}

void explain_location(const steering::GeoResult& geo, LineSink& sink) {
  const steering::Location& location = geo.location;
  Line line("location");
  if (location.country[0] == '\0' && location.continent[0] == '\0' && !location.coordinates) {
    line.append(" unknown");
  }
  if (location.country[0] != '\0') line.append(" %s", location.country);
  if (location.continent[0] != '\0') line.append(" %s", location.continent);
  if (location.coordinates) {
    line.append(" %.4f,%.4f", location.coordinates->lat, location.coordinates->lon);
  }
  if (geo.asn != 0) {
    line.append(" AS%u", geo.asn);
    if (!geo.asn_organization.empty()) {
      line.append(" %.*s", static_cast<int>(std::min<size_t>(geo.asn_organization.size(), 64)),
                  geo.asn_organization.data());
    }
  }
  char network[INET6_ADDRSTRLEN];
  line.append(" network %s/%u", address_text(geo.network.address, network),
              unsigned{geo.network.length});
  sink.line(line.text());
}

void explain_decision(const steering::Engine& engine, const steering::Decision& decision,
                      Family family, const steering::GeoResult& client, LineSink& sink) {
  std::string_view label = family == Family::V4 ? "A:" : "AAAA:";
  Line line(label);
  if (decision.count == 0) {
    line.append(" no mirror has an %s address (NODATA)", family == Family::V4 ? "IPv4" : "IPv6");
    sink.line(line.text());
    return;
  }
  std::string_view separator = " ";
  for (uint16_t index : decision.chosen()) {
    add_piece(line, label, separator, mirror_text(engine, index, family, client.location), sink);
    separator = ", ";
  }
  add_piece(line, label, " ", why_text(engine, decision, client), sink);
  sink.line(line.text());
}

void explain_service(const steering::Engine& engine, size_t service,
                     const steering::Client& client, LineSink& sink) {
  steering::Decision ipv4 = engine.choose(service, Family::V4, client);
  steering::Decision ipv6 = engine.choose(service, Family::V6, client);
  explain_client(client, sink);
  steering::GeoResult geo = engine.locate(client.address);
  explain_location(geo, sink);
  explain_decision(engine, ipv4, Family::V4, geo, sink);
  explain_decision(engine, ipv6, Family::V6, geo, sink);
}

void TxtRdataSink::line(std::string_view text) {
  text = text.substr(0, kMaxLine);
  if (full_ || out_.size() - size_ < 1 + text.size()) {
    full_ = true;
    return;
  }
  out_[size_++] = static_cast<char>(text.size());
  std::memcpy(out_.data() + size_, text.data(), text.size());
  size_ += text.size();
}

}  // namespace geosteer::app
