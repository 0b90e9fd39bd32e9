#include "common/asio.h"

#include "metrics/http_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <system_error>

#include "common/connection_slots.h"
#include "common/log.h"
#include "common/socket_options.h"

namespace geosteer::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr uint64_t kMaxBodyBytes = 8 * 1024;
// After a failed accept (out of file descriptors, mostly), wait before the next one
// rather than spin on the same error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// How long a connection we are closing may still send before we close it hard.
constexpr std::chrono::milliseconds kLingerTime{2000};

tcp::endpoint endpoint_of(const IpAddress& address, uint16_t port) {
  return {to_asio(address), port};
}

std::string endpoint_text(const IpAddress& address, uint16_t port) {
  std::string host = address.to_string();
  if (address.family == Family::V6) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// The path of an origin-form target: "/metrics?x=1" -> "/metrics".
std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

class Session;

// The listening side; shared by the HttpServer and each session, so that a session
// that ends after the HttpServer still finds it.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(asio::io_context& io, HttpServerOptions options, HttpHandler handler);

  void accept();
  void on_accept(const error_code& ec, tcp::socket socket);
  bool close_most_idle(std::string_view why);
  void close_all();

  HttpServerOptions options;
  HttpHandler handler;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  uint16_t port = 0;
  bool stopped = false;
  // Open sessions, for the connection limit, the idle timeout and stop(). Only
  // touched on the io_context's thread; each session leaves when it is destroyed.
  ConnectionSlots slots;
  SlotReaper reaper;
};

// One connection: reads requests one at a time, each under the request deadline,
// and answers each before reading the next.
class Session : public std::enable_shared_from_this<Session>, public ConnectionSlot {
 public:
  Session(tcp::socket socket, std::shared_ptr<ServerCore> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}
  // Here, not in ~ConnectionSlot: by then server_, which owns the slots, may be gone.
  ~Session() { server_->slots.remove(*this); }

  // Takes a slot (the caller has made room) and waits for the first request.
  void start() {
    server_->slots.add(*this, ConnectionSlots::Clock::now());
    server_->reaper.schedule();
    wait_for_request();
  }

  void close() {
    server_->slots.remove(*this);
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  // Idle until the client sends something: under the idle timeout only, so that a
  // silent client soon gives its slot back.
  void wait_for_request() {
    server_->slots.set_idle(*this, ConnectionSlots::Clock::now());
    // A pipelined request may already wait in the buffer, read with the last one.
    if (buffer_.size() > 0) return read_request();
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](const error_code& ec) {
                                  self->guarded([&] {
                                    if (ec || self->server_->stopped) return self->close();
                                    self->read_request();
                                  });
                                });
  }

  void read_request() {
    server_->slots.set_busy(*this, ConnectionSlots::Clock::now());
    server_->reaper.schedule();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    // One deadline for the whole request from its first byte: a client trickling
    // bytes (slowloris) gets no more time than a slow one.
    stream_.expires_after(server_->options.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       self->guarded([&] { self->on_read(ec); });
                     });
  }

  void on_read(const error_code& ec) {
    if (server_->stopped) return;
    if (ec == http::error::header_limit) return reply_error(431, "request header too large\n");
    if (ec == http::error::body_limit) return reply_error(413, "request body too large\n");
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    if (ec && is_parse_error(ec)) return reply_error(400, "malformed request\n");
    if (ec) return close();  // timeout, reset, or closed by stop()
    answer(parser_->get());
  }

  void answer(const http::request<http::string_body>& request) {
    bool head = request.method() == http::verb::head;
    if (!head && request.method() != http::verb::get) {
      auto response = make_response(405, "text/plain; charset=utf-8", "only GET and HEAD\n",
                                    request.version(), request.keep_alive());
      response.set(http::field::allow, "GET, HEAD");
      return send(std::move(response));
    }
    std::string_view target(request.target().data(), request.target().size());
    HttpResponse result = call_handler(path_of(target));
    auto response = make_response(result.status, result.content_type, std::move(result.body),
                                  request.version(), request.keep_alive());
    if (head) {
      // The length GET would have, without the body itself.
      response.body().clear();
    }
    send(std::move(response));
  }

  HttpResponse call_handler(std::string_view path) {
    try {
      return server_->handler(path);
    } catch (const std::exception& e) {
      log::error("metrics: HTTP handler failed for " + std::string(path) + ": " + e.what());
      return {500, "text/plain; charset=utf-8", "internal error\n"};
    }
  }

  static http::response<http::string_body> make_response(unsigned status,
                                                         const std::string& content_type,
                                                         std::string body, unsigned version,
                                                         bool keep_alive) {
    http::response<http::string_body> response{static_cast<http::status>(status), version};
    response.set(http::field::content_type, content_type);
    response.set(http::field::cache_control, "no-store");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  // Answers a request that cannot be served, then closes: after a framing error the
  // rest of the stream cannot be trusted to start a request.
  void reply_error(unsigned status, std::string body) {
    send(make_response(status, "text/plain; charset=utf-8", std::move(body), 11, false));
  }

  void send(http::response<http::string_body> response) {
    response_ = std::move(response);
    // Writing gets the same bound: a client that never reads cannot hold the connection.
    stream_.expires_after(server_->options.request_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->guarded([&] { self->on_write(ec); });
                      });
  }

  void on_write(const error_code& ec) {
    bool keep_alive = response_->keep_alive();
    response_.reset();
    if (ec || server_->stopped) return close();
    if (!keep_alive) return close_after_response();
    wait_for_request();
  }

  // Closing a socket with unread input makes the kernel reset the connection at once
  // and drop whatever part of our response it has not sent yet (a 431 to a client
  // still sending its huge header, say). So, as RFC 9112 section 9.6 advises: send
  // FIN, discard what the client still sends until it closes or a short grace period
  // ends, then close.
  void close_after_response() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::min<std::chrono::milliseconds>(server_->options.request_timeout,
                                                              kLingerTime));
    discard_input();
  }

  void discard_input() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](const error_code& ec, size_t) {
                              self->guarded([&] {
                                if (ec || self->server_->stopped) return self->close();
                                self->discard_input();
                              });
                            });
  }

  // No exception may leave a completion handler: it would end io_context::run().
  template <typename Step>
  void guarded(Step step) {
    try {
      step();
    } catch (const std::exception& e) {
      log::error(std::string("metrics: HTTP connection failed: ") + e.what());
      close();
    }
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerCore> server_;
  beast::flat_buffer buffer_{kMaxHeaderBytes + kMaxBodyBytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> discard_;
};

ServerCore::ServerCore(asio::io_context& io, HttpServerOptions options_, HttpHandler handler_)
    : options(std::move(options_)),
      handler(std::move(handler_)),
      acceptor(io),
      retry_timer(io),
      // The request deadline is the stream's own; the slot's is a backstop behind it
      // and the lingering close.
      slots({options.max_connections, options.idle_timeout, options.request_timeout + kLingerTime}),
      reaper(io.get_executor(), slots, [](ConnectionSlot& slot) {
        static_cast<Session&>(slot).close();
      }) {}

void ServerCore::accept() {
  acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    try {
      self->on_accept(ec, std::move(socket));
    } catch (const std::exception& e) {
      log::error(std::string("metrics: accepting an HTTP connection failed: ") + e.what());
      if (!self->stopped) self->accept();
    }
  });
}

void ServerCore::on_accept(const error_code& ec, tcp::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors: an idle connection gives its descriptor to the
    // newcomer waiting in the backlog.
    if (ec == asio::error::no_descriptors && close_most_idle("out of file descriptors")) {
      return accept();
    }
    log::warning("metrics: accept failed: " + ec.message());
    retry_timer.expires_after(kAcceptRetryDelay);
    retry_timer.async_wait([self = shared_from_this()](const error_code& wait_ec) {
      if (wait_ec || self->stopped) return;
      try {
        self->accept();
      } catch (const std::exception& e) {
        log::error(std::string("metrics: cannot accept HTTP connections: ") + e.what());
      }
    });
    return;
  }
  accept();  // first, so that a throwing session start cannot stop the accept loop
  // Refusing the newcomer would let idle clients lock out the next /healthz.
  if (slots.full()) close_most_idle("connection limit reached");
  std::make_shared<Session>(std::move(socket), shared_from_this())->start();
}

// Closing aborts the session's pending operation; the session then ends itself.
bool ServerCore::close_most_idle(std::string_view why) {
  ConnectionSlot* victim = slots.most_idle();
  if (victim == nullptr) return false;
  log::debug(std::string("metrics: closing the most idle HTTP connection: ") + std::string(why));
  static_cast<Session*>(victim)->close();
  return true;
}

void ServerCore::close_all() {
  if (stopped) return;
  stopped = true;
  error_code ignored;
  acceptor.close(ignored);
  retry_timer.cancel();
  reaper.cancel();
  while (close_most_idle("server stopping")) {
  }
}

}  // namespace

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
};

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {
  tcp::endpoint endpoint = endpoint_of(impl_->options.address, impl_->options.port);
  auto fail = [&](const error_code& ec) {
    throw std::system_error(
        ec, "cannot listen for HTTP on " +
                endpoint_text(impl_->options.address, impl_->options.port));
  };
  error_code ec;
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (ec) fail(ec);
  int fd = impl_->acceptor.native_handle();
  std::string name = "http " + endpoint_text(impl_->options.address, impl_->options.port);
  namespace so = socket_options;
  // Throws std::system_error naming the option and the socket.
  so::set(fd, {SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"}, name, so::Need::Required);
  if (endpoint.address().is_v6()) {
    // [::] must not also take the IPv4 port: 0.0.0.0 may be listed on its own.
    so::set(fd, {IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"}, name, so::Need::Required);
  }
  impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail(ec);
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::stop() { impl_->close_all(); }

}  // namespace geosteer::metrics
