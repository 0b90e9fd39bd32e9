// A small HTTP/1.1 server (Boost.Beast) for /metrics, the status page and
// /healthz, on the control io_context. It serves GET and HEAD only, bounds request
// size, time and connection count, and survives malformed requests and slow
// clients: none of them can stop it serving the next scrape. Idle clients cannot
// hold its connection slots: when all are taken, the connection idle the longest
// is closed for the newcomer (common/connection_slots.h), so that a load balancer's
// /healthz always gets in.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/ip.h"

namespace geosteer::metrics {

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the io_context with the request target's path ("/metrics"), for GET
// and HEAD requests (the server drops the body for HEAD).
using HttpHandler = std::function<HttpResponse(std::string_view path)>;

struct HttpServerOptions {
  IpAddress address = *IpAddress::parse("127.0.0.1");
  uint16_t port = 9153;  // 0: any free port (tests)
  // From a request's first byte until its response is written.
  std::chrono::milliseconds request_timeout{10000};
  // Waiting for a request: after the connection is accepted, and between requests.
  std::chrono::milliseconds idle_timeout{5000};
  unsigned max_connections = 64;  // past that, the most idle connection makes room
};

class HttpServer {
 public:
  // Binds and starts accepting; throws std::system_error naming the address.
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  uint16_t port() const;
  // Closes the acceptor and every open connection; the handler is not called again.
  // Like the destructor (which calls it), runs on the io_context's thread or while
  // the io_context does not run: the server's sockets are not thread-safe.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace geosteer::metrics
