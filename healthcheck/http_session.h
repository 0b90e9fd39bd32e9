// The HTTP client side of a probe: GET requests over HTTP/1.1 or HTTPS (Boost.Beast,
// OpenSSL) under one deadline, reusing a kept-alive connection while the requests
// go to the same place, following redirects within the same scheme. Failures are
// thrown as HttpFailure whose message is the probe's reason ("connect refused",
// "timeout after 5s", "TLS: certificate expired", "bad HTTP response").
#pragma once

#include <chrono>
#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/ip.h"
#include "healthcheck/url.h"

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

namespace geosteer::healthcheck {

class HttpFailure : public std::runtime_error {
 public:
  explicit HttpFailure(const std::string& reason, bool closed_before_response = false)
      : std::runtime_error(reason), closed_before_response_(closed_before_response) {}
  // A response whose header arrived but that was refused all the same (a body over
  // kMaxBodyBytes): the status the server sent and when its first byte came.
  HttpFailure(const std::string& reason, unsigned status, double first_byte_ms)
      : std::runtime_error(reason), closed_before_response_(false), status_(status),
        first_byte_ms_(first_byte_ms) {}
  // The peer closed a connection before any byte of the response: on a reused
  // connection that is the server's idle timeout, and worth one retry.
  bool closed_before_response() const { return closed_before_response_; }
  unsigned status() const { return status_; }  // 0 when no header arrived
  std::optional<double> first_byte_ms() const { return first_byte_ms_; }

 private:
  bool closed_before_response_;
  unsigned status_ = 0;
  std::optional<double> first_byte_ms_;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;  // at most kMaxBodyBytes
  std::string location;
  bool keep_alive = false;
  double first_byte_ms = 0;  // from the request written to the response header read
};

// A body larger than this fails the request ("body over 65536 bytes"): a hostile
// mirror cannot make us buffer more.
inline constexpr size_t kMaxBodyBytes = 64 * 1024;

struct TlsPolicy {
  bool verify = true;
  std::string ca_file;  // empty: the system CAs
  bool system_cas_too = false;  // with a ca_file: trust the system CAs as well
  friend auto operator<=>(const TlsPolicy&, const TlsPolicy&) = default;
};

// One OpenSSL context per policy, shared by every connection made with it.
// Not thread-safe: used from the io_context's one thread.
class TlsContexts {
 public:
  // Throws HttpFailure when the CA file or the system CAs cannot be loaded.
  std::shared_ptr<boost::asio::ssl::context> get(const TlsPolicy& policy);

 private:
  std::map<TlsPolicy, std::shared_ptr<boost::asio::ssl::context>> contexts_;
};

// Where and under which name to reach the host a URL names.
struct Route {
  std::optional<IpAddress> address;  // connect here; nullopt: resolve the URL's host
  std::string host;  // Host header, SNI and the name the certificate must hold
  // When resolving: only addresses of this family, so that the IPv6 probe of a
  // mirror redirecting elsewhere still judges IPv6.
  std::optional<Family> family;
};

struct RedirectRules {
  unsigned max_redirects = 3;
  unsigned final_status = 200;  // a redirect with this status is the answer itself
};

class Connection;
struct ConnectionKey;

class HttpSession {
 public:
  using Router = std::function<Route(const Url&)>;

  HttpSession(boost::asio::any_io_executor executor, TlsContexts& tls, TlsPolicy policy,
              std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout,
              Router router);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // GET `url`, following redirects; each URL followed is appended to `followed`.
  boost::asio::awaitable<HttpResponse> get(Url url, RedirectRules rules,
                                           std::vector<std::string>& followed);

  // Phases of the first connection this session made.
  std::optional<double> connect_ms() const { return connect_ms_; }
  std::optional<double> tls_ms() const { return tls_ms_; }
  unsigned connections_opened() const { return connections_opened_; }

  void close();

 private:
  boost::asio::awaitable<HttpResponse> request(const Url& url);
  boost::asio::awaitable<std::unique_ptr<Connection>> open(const Url& url, const Route& route);
  boost::asio::awaitable<void> connect(Connection& connection, const Url& url,
                                       const Route& route);
  boost::asio::awaitable<boost::asio::ip::tcp::resolver::results_type> resolve(const Url& url, std::optional<Family> family);
  void prepare_tls(SSL* ssl_handle, const std::string& host) const;
  std::string reason(const boost::system::error_code& ec) const;
  std::string tls_reason(const boost::system::error_code& ec, SSL* ssl_handle) const;
  static ConnectionKey key_of(const Url& url, const Route& route);

  boost::asio::any_io_executor executor_;
  TlsContexts& tls_;
  TlsPolicy policy_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds timeout_;
  Router router_;
  std::unique_ptr<Connection> connection_;
  std::optional<double> connect_ms_, tls_ms_;
  unsigned connections_opened_ = 0;
};

}  // namespace geosteer::healthcheck
