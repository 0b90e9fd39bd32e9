// An in-process dns::Server on a free loopback port, answering from a small zone
// through the real Responder, for the tests of the server's sockets.
#pragma once

#include <thread>

#include "dns/responder.h"
#include "dns/server.h"
#include "tests/dns/dns_test_support.h"
#include "tests/dns/example_zone.h"

namespace geosteer::dns::test {

class ResponderHandler : public QueryHandler {
 public:
  size_t handle(std::span<const uint8_t> query, const RequestInfo& info,
                std::span<uint8_t> out) override {
    return responder_.respond(query, info, out);
  }

 private:
  static zones::Zone zone() {
    TextZone zone("example.org.");
    zone.add("@", 3600, "SOA ns1.example.org. hostmaster.example.org. 1 3600 600 1209600 300")
        .add("@", 3600, "NS ns1.example.org.")
        .add("www", 300, "A 192.0.2.1");
    // About 8 KB of answer: a client that does not read soon fills every buffer
    // the kernel has for it (the server's send buffer grows to 4 MB).
    for (int i = 0; i < 40; ++i) {
      zone.add("big", 300, "TXT \"" + std::to_string(i) + std::string(199, 'x') + "\"");
    }
    return zone.finish();
  }

  zones::ZoneSet zones_ = zones::ZoneBuilder::make_set({zone()});
  NoDynamicAnswers dynamic_;
  Responder responder_{zones_, dynamic_, ResponderOptions{"ns1.geosteer.test", 1232, std::nullopt, system_unix_time}};
};

// Options for one query thread on 127.0.0.1 (and [::1] when asked), any free port.
inline ServerOptions loopback_options(bool ipv6 = false) {
  ServerOptions options;
  options.listen.push_back({IpAddress::v4({127, 0, 0, 1}), 0});
  if (ipv6) options.listen.push_back({*IpAddress::parse("::1"), 0});
  options.threads = 1;
  return options;
}

class RunningServer {
 public:
  explicit RunningServer(ServerOptions options)
      : server_(std::move(options), handler_), thread_([this] { server_.run(); }) {}
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  uint16_t port(size_t endpoint = 0) const { return server_.bound_udp()[endpoint].port; }

 private:
  ResponderHandler handler_;
  Server server_;
  std::thread thread_;
};

// A query for www.example.org. A (or another name) with the given ID.
inline Bytes www_query(uint16_t id, std::vector<EdnsOptionSpec> options = {}, bool edns = false,
                       std::string qname = "www.example.org.", uint16_t qtype = 1) {
  QuerySpec spec;
  spec.qname = std::move(qname);
  spec.qtype = qtype;
  spec.id = id;
  if (edns || !options.empty()) {
    spec.edns = EdnsSpec{};
    spec.edns->options = std::move(options);
  }
  return make_query(spec);
}

inline uint16_t message_id(std::span<const uint8_t> message) {
  return message.size() < 2 ? 0 : static_cast<uint16_t>(message[0] << 8 | message[1]);
}

}  // namespace geosteer::dns::test
