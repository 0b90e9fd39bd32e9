#include "tests/support/http_test_server.h"

#include "common/asio.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace geosteer::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct HttpTestServer::Shared {
  mutable std::mutex mutex;
  std::map<std::string, TestResponse> responses;
  std::vector<RecordedRequest> requests;
  ServerMode mode = ServerMode::Normal;
  unsigned connections = 0;
  std::unique_ptr<ssl::context> tls;  // set before the first start, read-only afterwards

  // Records the request and returns the response to it (404 for unknown targets).
  TestResponse answer(RecordedRequest request) {
    std::lock_guard lock(mutex);
    auto it = responses.find(request.target);
    requests.push_back(std::move(request));
    if (it != responses.end()) return it->second;
    return TestResponse::with_status(404, "not found\n");
  }

  std::pair<ServerMode, unsigned> accept_connection() {
    std::lock_guard lock(mutex);
    return {mode, ++connections};
  }
};

namespace {

using Shared = HttpTestServer::Shared;

asio::awaitable<void> pause(std::chrono::steady_clock::duration duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

http::response<http::string_body> make_response(const TestResponse& answer, bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
  for (const auto& [name, value] : answer.headers) response.set(name, value);
  response.body() = answer.body;
  response.keep_alive(keep_alive && !answer.close);
  response.prepare_payload();
  return response;
}

template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream, std::shared_ptr<Shared> shared,
                                     unsigned connection, std::string sni) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    error_code ec;
    co_await http::async_read(stream, buffer, request,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    TestResponse answer = shared->answer(RecordedRequest{
        std::string(request.target()), std::string(request[http::field::host]), sni, connection});
    if (answer.delay.count() > 0) co_await pause(answer.delay);
    if (!answer.raw.empty()) {
      co_await asio::async_write(stream, asio::buffer(answer.raw),
                                 asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    auto response = make_response(answer, request.keep_alive());
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) co_return;
  }
}

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<Shared> shared) {
  auto [mode, connection] = shared->accept_connection();
  if (mode == ServerMode::CloseImmediately) co_return;  // the socket closes with the frame
  if (mode == ServerMode::Silent) {
    // Held open until the server stops, which destroys this frame.
    co_await pause(std::chrono::hours(24));
    co_return;
  }
  if (!shared->tls) {
    co_await serve_requests(socket, shared, connection, "");
    co_return;
  }
  beast::ssl_stream<tcp::socket> stream(std::move(socket), *shared->tls);
  error_code ec;
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
  co_await serve_requests(stream, shared, connection, sni ? sni : "");
}

asio::awaitable<void> accept_connections(tcp::acceptor& acceptor, std::shared_ptr<Shared> shared) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), shared),
                   asio::detached);
  }
}

}  // namespace

// One run of the server: an io_context, its thread and the listening socket.
// Destroying it destroys every pending connection with the io_context.
class HttpTestServer::Runner {
 public:
  Runner(uint16_t port, std::shared_ptr<Shared> shared)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)) {
    asio::co_spawn(io_, accept_connections(acceptor_, std::move(shared)), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Runner() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;  // binds with SO_REUSEADDR, so a restart gets the same port
  std::thread thread_;
};

HttpTestServer::HttpTestServer(std::optional<CertificateFiles> tls)
    : tls_(tls.has_value()), shared_(std::make_shared<Shared>()) {
  if (tls) {
    shared_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    shared_->tls->use_certificate_chain_file(tls->certificate.string());
    shared_->tls->use_private_key_file(tls->private_key.string(), ssl::context::pem);
  }
  start();
}

HttpTestServer::~HttpTestServer() { stop(); }

std::string HttpTestServer::url(const std::string& host) const {
  return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + "/";
}

void HttpTestServer::set_response(const std::string& target, TestResponse response) {
  std::lock_guard lock(shared_->mutex);
  shared_->responses[target] = std::move(response);
}

void HttpTestServer::set_mode(ServerMode mode) {
  std::lock_guard lock(shared_->mutex);
  shared_->mode = mode;
}

void HttpTestServer::stop() { runner_.reset(); }

void HttpTestServer::start() {
  if (runner_) return;
  runner_ = std::make_unique<Runner>(port_, shared_);
  port_ = runner_->port();
}

unsigned HttpTestServer::request_count(const std::string& target) const {
  std::lock_guard lock(shared_->mutex);
  unsigned count = 0;
  for (const RecordedRequest& request : shared_->requests) count += request.target == target;
  return count;
}

unsigned HttpTestServer::connection_count() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->connections;
}

std::vector<RecordedRequest> HttpTestServer::requests() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->requests;
}

}  // namespace geosteer::testing
