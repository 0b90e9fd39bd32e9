#include "healthcheck/http_session.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "healthcheck/time_text.h"

namespace geosteer::healthcheck {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;

double millis_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

tcp::endpoint endpoint_of(const IpAddress& address, uint16_t port) {
  return {to_asio(address), port};
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The peer went away: an orderly close, a reset, or TLS without close_notify.
bool is_closed(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == http::error::partial_message || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

std::string verify_failure(long result) {
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return "TLS: certificate expired";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "TLS: certificate not yet valid";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return "TLS: host name mismatch";
    default:
      return std::string("TLS: certificate verify failed (") +
             X509_verify_cert_error_string(result) + ")";
  }
}

}  // namespace

// What a connection is to: it is reused only for requests to the same.
struct ConnectionKey {
  std::string scheme, host;
  uint16_t port = 0;
  std::optional<IpAddress> address;
  friend bool operator==(const ConnectionKey&, const ConnectionKey&) = default;
};

// One TCP connection, plain or TLS, and the buffer of what it read past a response.
class Connection {
 public:
  using Key = ConnectionKey;

  Connection(asio::any_io_executor executor, Key key, std::shared_ptr<ssl::context> tls)
      : key_(std::move(key)), context_(std::move(tls)) {
    if (context_) {
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, *context_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(executor);
    }
  }

  const Key& key() const { return key_; }
  bool reusable() const { return keep_alive_ && tcp().socket().is_open(); }
  bool tls() const { return tls_ != nullptr; }
  beast::tcp_stream& tcp() const { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  SSL* ssl_handle() const { return tls_->native_handle(); }

  asio::awaitable<error_code> handshake() {
    error_code ec;
    co_await tls_->async_handshake(ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }

  // Writes the request and reads the whole response; throws HttpFailure.
  template <class Reason>
  asio::awaitable<HttpResponse> exchange(const http::request<http::empty_body>& request,
                                         Reason reason) {
    if (tls_) co_return co_await exchange_on(*tls_, request, reason);
    co_return co_await exchange_on(*plain_, request, reason);
  }

  void close() {
    error_code ignored;
    tcp().socket().close(ignored);
  }

 private:
  template <class Stream, class Reason>
  asio::awaitable<HttpResponse> exchange_on(Stream& stream,
                                            const http::request<http::empty_body>& request,
                                            Reason reason) {
    keep_alive_ = false;
    error_code ec;
    co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw HttpFailure(reason(ec), is_closed(ec));
    Clock::time_point sent = Clock::now();
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    co_await http::async_read_header(stream, buffer_, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    HttpResponse response;
    response.first_byte_ms = millis_since(sent);
    // A Content-Length over the limit is refused with the header; a chunked body
    // only once it grows past it.
    if (ec == http::error::body_limit) throw body_over_limit(parser, response);
    if (ec) throw HttpFailure(reason(ec), is_closed(ec) && buffer_.size() == 0);
    co_await http::async_read(stream, buffer_, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::body_limit) throw body_over_limit(parser, response);
    if (ec) throw HttpFailure(reason(ec));
    auto& message = parser.get();
    response.status = message.result_int();
    response.location = std::string(message[http::field::location]);
    response.keep_alive = keep_alive_ = message.keep_alive();
    response.body = std::move(message.body());
    co_return response;
  }

  // The server answered, just too much: its status is worth reporting.
  static HttpFailure body_over_limit(const http::response_parser<http::string_body>& parser,
                                     const HttpResponse& response) {
    return HttpFailure("body over " + std::to_string(kMaxBodyBytes) + " bytes",
                       parser.get().result_int(), response.first_byte_ms);
  }

  Key key_;
  std::shared_ptr<ssl::context> context_;  // outlives the stream made with it
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bool keep_alive_ = false;
};

std::shared_ptr<ssl::context> TlsContexts::get(const TlsPolicy& policy) {
  if (auto it = contexts_.find(policy); it != contexts_.end()) return it->second;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  if (policy.verify) {
    context->set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (policy.ca_file.empty() || policy.system_cas_too) context->set_default_verify_paths(ec);
    if (!ec && !policy.ca_file.empty()) context->load_verify_file(policy.ca_file, ec);
    // Not cached: the file may be fixed before the next probe.
    if (ec) {
      throw HttpFailure("TLS: cannot load " +
                        (policy.ca_file.empty() ? "the system CAs" : policy.ca_file) + ": " +
                        ec.message());
    }
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  contexts_.emplace(policy, context);
  return context;
}

HttpSession::HttpSession(asio::any_io_executor executor, TlsContexts& tls, TlsPolicy policy,
                         Clock::time_point deadline, std::chrono::milliseconds timeout,
                         Router router)
    : executor_(std::move(executor)),
      tls_(tls),
      policy_(std::move(policy)),
      deadline_(deadline),
      timeout_(timeout),
      router_(std::move(router)) {}

HttpSession::~HttpSession() = default;

void HttpSession::close() {
  if (connection_) connection_->close();
  connection_.reset();
}

std::string HttpSession::reason(const error_code& ec) const {
  if (ec == beast::error::timeout || Clock::now() >= deadline_) {
    return "timeout after " + format_millis(timeout_);
  }
  if (ec == asio::error::connection_refused) return "connect refused";
  if (is_closed(ec)) return "connection closed";
  // Every other Beast HTTP error is a response the parser refused.
  if (ec.category() == error_code(http::error::bad_version).category()) {
    return "bad HTTP response";
  }
  return ec.message();
}

asio::awaitable<HttpResponse> HttpSession::get(Url url, RedirectRules rules,
                                               std::vector<std::string>& followed) {
  for (unsigned redirects = 0;; ++redirects) {
    HttpResponse response = co_await request(url);
    if (!is_redirect(response.status) || response.status == rules.final_status ||
        response.location.empty()) {
      co_return response;
    }
    std::optional<Url> next = url.resolve(response.location);
    if (!next) throw HttpFailure("bad redirect location");
    if (next->scheme != url.scheme) throw HttpFailure("redirect to another scheme");
    if (redirects == rules.max_redirects) throw HttpFailure("too many redirects");
    followed.push_back(next->to_string());
    url = std::move(*next);
  }
}

asio::awaitable<HttpResponse> HttpSession::request(const Url& url) {
  Route route = router_(url);
  Url shown = url;
  shown.host = route.host;
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, shown.authority());
  request.set(http::field::user_agent, "geosteer-healthcheck");
  request.keep_alive(true);
  auto reason = [this](const error_code& ec) { return this->reason(ec); };

  if (connection_ && connection_->key() == key_of(url, route) && connection_->reusable()) {
    try {
      co_return co_await connection_->exchange(request, reason);
    } catch (const HttpFailure& failure) {
      // The server closed the idle connection as we reused it: once more, afresh.
      if (!failure.closed_before_response() || Clock::now() >= deadline_) throw;
    }
  }
  close();
  connection_ = co_await open(url, route);
  co_return co_await connection_->exchange(request, reason);
}

asio::awaitable<std::unique_ptr<Connection>> HttpSession::open(const Url& url,
                                                               const Route& route) {
  std::shared_ptr<ssl::context> context = url.tls() ? tls_.get(policy_) : nullptr;
  auto connection = std::make_unique<Connection>(executor_, key_of(url, route), context);
  connection->tcp().expires_at(deadline_);
  bool first = connections_opened_++ == 0;
  Clock::time_point start = Clock::now();
  co_await connect(*connection, url, route);
  if (first) connect_ms_ = millis_since(start);
  if (!connection->tls()) co_return connection;

  start = Clock::now();
  prepare_tls(connection->ssl_handle(), route.host);
  error_code ec = co_await connection->handshake();
  if (ec) throw HttpFailure(tls_reason(ec, connection->ssl_handle()));
  if (first) tls_ms_ = millis_since(start);
  co_return connection;
}

asio::awaitable<void> HttpSession::connect(Connection& connection, const Url& url,
                                           const Route& route) {
  error_code ec;
  if (route.address) {
    co_await connection.tcp().async_connect(endpoint_of(*route.address, url.port),
                                            asio::redirect_error(asio::use_awaitable, ec));
  } else {
    tcp::resolver::results_type endpoints = co_await resolve(url, route.family);
    co_await connection.tcp().async_connect(endpoints,
                                            asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) throw HttpFailure(reason(ec));
}

asio::awaitable<tcp::resolver::results_type> HttpSession::resolve(const Url& url,
                                                                 std::optional<Family> family) {
  // The resolver has no deadline of its own: a timer cancels it. Both handlers
  // share the resolver, which must outlive whichever runs last.
  auto resolver = std::make_shared<tcp::resolver>(executor_);
  asio::steady_timer guard(executor_, deadline_);
  guard.async_wait([resolver](const error_code& ec) {
    if (!ec) resolver->cancel();
  });
  error_code ec;
  auto on_done = asio::redirect_error(asio::use_awaitable, ec);
  // One co_await per statement: GCC 12 destroys the temporary result of a co_await
  // inside either arm of ?: twice (a heap use-after-free in ~basic_resolver_results).
  tcp::resolver::results_type endpoints;
  std::string service = std::to_string(url.port);
  if (family) {
    auto protocol = *family == Family::V4 ? tcp::v4() : tcp::v6();
    endpoints = co_await resolver->async_resolve(protocol, url.host, service, on_done);
  } else {
    endpoints = co_await resolver->async_resolve(url.host, service, on_done);
  }
  guard.cancel();
  if (ec) {
    if (Clock::now() >= deadline_) throw HttpFailure(reason(ec));
    throw HttpFailure("cannot resolve " + url.host + ": " + ec.message());
  }
  co_return endpoints;
}

void HttpSession::prepare_tls(SSL* ssl_handle, const std::string& host) const {
  // RFC 6066: SNI names hosts, never addresses.
  bool literal = IpAddress::parse(host).has_value();
  if (!literal) SSL_set_tlsext_host_name(ssl_handle, host.c_str());
  if (!policy_.verify) return;
  int set = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), host.c_str())
                    : SSL_set1_host(ssl_handle, host.c_str());
  if (set != 1) throw HttpFailure("TLS: cannot verify host name " + host);
}

std::string HttpSession::tls_reason(const error_code& ec, SSL* ssl_handle) const {
  if (ec == beast::error::timeout || Clock::now() >= deadline_) return reason(ec);
  // With verification off the verify result still holds what was wrong, and is not the reason.
  long verify_result = SSL_get_verify_result(ssl_handle);
  if (policy_.verify && verify_result != X509_V_OK) return verify_failure(verify_result);
  if (is_closed(ec)) return "TLS: connection closed during handshake";
  return "TLS: " + ec.message();
}

ConnectionKey HttpSession::key_of(const Url& url, const Route& route) {
  // Connections to the same address under different names (SNI) are not the same.
  return ConnectionKey{url.scheme, route.address ? route.host : url.host, url.port,
                         route.address};
}

}  // namespace geosteer::healthcheck
