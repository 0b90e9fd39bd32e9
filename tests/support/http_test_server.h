// An in-process HTTP/1.1 (or HTTPS) server on 127.0.0.1 for probe tests. It runs on
// its own thread and io_context, answers each path with a response the test sets
// (and may change at any time, from any thread), records every request, and fakes
// the faults of broken mirrors: silence after accept, close after accept, a slow
// first byte, malformed responses. stop() frees the port (connections to it are
// refused), start() takes the same port again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/tls_fixtures.h"

namespace geosteer::testing {

struct TestResponse {
  unsigned status = 200;
  std::string body;
  // e.g. {"Location", "/x"}; Beast refuses a value of 64 KiB or more.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before the first byte of the answer
  bool close = false;                  // "Connection: close" and close after answering
  std::string raw;  // when set: sent verbatim instead (malformed answers), then closed

  static TestResponse ok(std::string body) { return with_status(200, std::move(body)); }
  static TestResponse with_status(unsigned status, std::string body = {}) {
    TestResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
  }
  static TestResponse redirect(unsigned status, std::string location) {
    return with_status(status).header("Location", std::move(location));
  }
  static TestResponse verbatim(std::string bytes) {
    TestResponse response;
    response.raw = std::move(bytes);
    return response;
  }
  TestResponse header(std::string name, std::string value) && {
    headers.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }
  TestResponse delayed(std::chrono::milliseconds by) && {
    delay = by;
    return std::move(*this);
  }
  TestResponse closing() && {
    close = true;
    return std::move(*this);
  }
};

enum class ServerMode {
  Normal,
  Silent,            // accept, then never read nor answer
  CloseImmediately,  // accept, then close at once
};

struct RecordedRequest {
  std::string target;      // path and query
  std::string host;        // the Host header
  std::string sni;         // the TLS server name, empty without TLS or SNI
  unsigned connection = 0; // which connection it came on, numbered from 1
};

class HttpTestServer {
 public:
  // Plain HTTP, or HTTPS with this certificate and key.
  explicit HttpTestServer(std::optional<CertificateFiles> tls = std::nullopt);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://HOST:PORT/" (or https), for a mirror's url; the host is not resolved by probes.
  std::string url(const std::string& host = "127.0.0.1") const;

  void set_response(const std::string& target, TestResponse response);
  void set_mode(ServerMode mode);

  void stop();
  void start();

  unsigned request_count(const std::string& target) const;
  unsigned connection_count() const;
  std::vector<RecordedRequest> requests() const;

  struct Shared;  // what the server thread and the test share, under a mutex

 private:
  class Runner;

  bool tls_;
  uint16_t port_ = 0;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Runner> runner_;
};

}  // namespace geosteer::testing
