#include "dns/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "common/log.h"
#include "common/socket_options.h"

namespace geosteer::dns {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = ConnectionSlots::Clock;
namespace so = socket_options;

namespace {

constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Pooled chunks kept for reuse beyond those in use, per thread.
constexpr size_t kPooledInputs = 64;

uint16_t keepalive_units(std::chrono::milliseconds idle_timeout) {
  auto units = idle_timeout.count() / 100;
  return static_cast<uint16_t>(std::clamp<long long>(units, 0, 0xFFFF));
}

// One connection: length-prefixed messages (RFC 1035 section 4.2.2), several per
// connection and answered in order (RFC 7766 section 6.2.1), read and written
// without blocking when the socket is ready.
class TcpConnection : public std::enable_shared_from_this<TcpConnection>, public ConnectionSlot {
 public:
  TcpConnection(tcp::socket socket, TcpThread& thread)
      : socket_(std::move(socket)), thread_(thread) {}

  // Takes a slot (the caller has made room) and waits for the first message.
  void start() {
    error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) peer_ = from_asio(remote.address());
    socket_.non_blocking(true, ec);
    if (ec) return close("cannot make the socket non-blocking: " + ec.message());
    int one = 1;
    // Each response leaves in one write; no reason to wait for more.
    if (::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 &&
        log::enabled(log::Level::Debug)) {
      log::debug("setsockopt(TCP_NODELAY) on a tcp connection failed: " +
                 std::string(std::strerror(errno)));
    }
    thread_.slots.add(*this, Clock::now());
    thread_.reaper.schedule();
    wait_readable();
  }

  void close(std::string_view why) {
    if (closed_) return;
    closed_ = true;
    if (log::enabled(log::Level::Debug)) {
      log::debug("tcp connection from " + peer_.to_string() + " closed: " + std::string(why));
    }
    thread_.slots.remove(*this);
    thread_.inputs.give(std::move(input_));
    if (output_) {
      --thread_.slow_readers;
      thread_.outputs.give(std::move(output_));
    }
    error_code ignored;
    socket_.close(ignored);  // the pending wait ends with operation_aborted
  }

 private:
  enum class Sent { Whole, Blocked, Failed };

  void wait_readable() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
      if (!ec && !self->closed_) self->on_readable();
    });
  }

  void wait_writable() {
    socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](const error_code& ec) {
      if (!ec && !self->closed_) self->on_writable();
    });
  }

  // Reads what has arrived behind the part of a message already kept, or into the
  // thread's buffer when nothing is kept.
  void on_readable() {
    uint8_t* data = input_ ? input_->data() : thread_.input.data();
    size_t kept = input_length_;
    error_code ec;
    size_t n = socket_.read_some(asio::buffer(data + kept, kTcpInputCapacity - kept), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_readable();
    if (ec == asio::error::eof) return close("closed by the client");
    if (ec) return close(ec.message());
    consume(data, kept + n);
  }

  // Answers every whole message in data[0, length) and keeps the rest.
  void consume(uint8_t* data, size_t length) {
    size_t at = 0;
    bool answered = false;
    while (length - at >= 2) {
      size_t message = static_cast<size_t>(data[at] << 8 | data[at + 1]);
      if (message == 0 || message > kMaxTcpQuery) {
        return close("message of " + std::to_string(message) + " bytes is no query");
      }
      if (length - at < 2 + message) break;
      Sent sent = answer({data + at + 2, message});
      at += 2 + message;
      answered = true;
      if (sent == Sent::Failed) return;
      if (sent == Sent::Blocked) {
        keep_input(data + at, length - at);
        restart_busy();
        return wait_writable();
      }
    }
    keep_input(data + at, length - at);
    // Stopping: the message in progress is answered; nothing more is read.
    if (thread_.stopping && input_length_ == 0) return close("server stopping");
    auto now = Clock::now();
    if (answered) thread_.slots.set_idle(*this, now);
    // A message begun: the I/O timeout runs from its first bytes, however they trickle.
    if (input_length_ > 0) thread_.slots.set_busy(*this, now);
    thread_.reaper.schedule();
    wait_readable();
  }

  Sent answer(std::span<const uint8_t> query) {
    RequestInfo info{Transport::Tcp, peer_, thread_.keepalive};
    uint8_t* out = thread_.output.data();
    size_t length = thread_.handler.handle(query, info, {out + 2, kTcpOutputCapacity - 2});
    if (length == 0) return Sent::Whole;  // nothing to say (a response was sent to us)
    out[0] = static_cast<uint8_t>(length >> 8);
    out[1] = static_cast<uint8_t>(length & 0xFF);
    size_t total = length + 2;
    error_code ec;
    size_t sent = socket_.write_some(asio::buffer(out, total), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      sent = 0;
      ec = {};
    }
    if (ec) {
      close("write failed: " + ec.message());
      return Sent::Failed;
    }
    if (sent == total) return Sent::Whole;
    return keep_output(out + sent, total - sent) ? Sent::Blocked : Sent::Failed;
  }

  // The client reads slower than we answer: keep the rest of the response.
  bool keep_output(const uint8_t* rest, size_t length) {
    if (thread_.slow_readers >= kMaxSlowReaders) {
      close("too many clients reading slowly");
      return false;
    }
    ++thread_.slow_readers;
    output_ = thread_.outputs.take();
    std::memcpy(output_->data(), rest, length);
    output_length_ = length;
    output_sent_ = 0;
    return true;
  }

  void on_writable() {
    error_code ec;
    size_t n = socket_.write_some(
        asio::buffer(output_->data() + output_sent_, output_length_ - output_sent_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_writable();
    if (ec) return close("write failed: " + ec.message());
    output_sent_ += n;
    if (output_sent_ < output_length_) return wait_writable();
    --thread_.slow_readers;
    thread_.outputs.give(std::move(output_));
    thread_.slots.set_idle(*this, Clock::now());
    // Messages that arrived with the one answered may already be whole.
    consume(input_ ? input_->data() : thread_.input.data(), input_length_);
  }

  // Keeps data[0, length) for the next read; `data` may lie in the kept chunk itself.
  void keep_input(const uint8_t* data, size_t length) {
    if (length == 0) {
      thread_.inputs.give(std::move(input_));
      input_length_ = 0;
      return;
    }
    if (!input_) input_ = thread_.inputs.take();
    std::memmove(input_->data(), data, length);
    input_length_ = length;
  }

  // A new phase of work (writing a response): its own I/O timeout from now.
  void restart_busy() {
    auto now = Clock::now();
    thread_.slots.set_idle(*this, now);
    thread_.slots.set_busy(*this, now);
    thread_.reaper.schedule();
  }

  tcp::socket socket_;
  TcpThread& thread_;
  IpAddress peer_;
  bool closed_ = false;
  ChunkPool<kTcpInputCapacity>::Ptr input_;
  size_t input_length_ = 0;
  ChunkPool<kTcpOutputCapacity>::Ptr output_;
  size_t output_length_ = 0;
  size_t output_sent_ = 0;
};

TcpConnection& connection_of(ConnectionSlot& slot) { return static_cast<TcpConnection&>(slot); }

}  // namespace

TcpThread::TcpThread(asio::io_context& io, ConnectionSlots& slots_, QueryHandler& handler_,
                     const ServerOptions& options)
    : handler(handler_),
      slots(slots_),
      reaper(io.get_executor(), slots_,
             [](ConnectionSlot& slot) {
               connection_of(slot).close(slot.busy() ? "I/O timeout" : "idle timeout");
             }),
      keepalive(keepalive_units(options.tcp_idle_timeout)),
      inputs(kPooledInputs),
      outputs(kMaxSlowReaders) {}

bool TcpThread::evict_most_idle(std::string_view why) {
  ConnectionSlot* victim = slots.most_idle();
  if (victim == nullptr) return false;
  connection_of(*victim).close(why);
  return true;
}

void TcpThread::finish_and_close() {
  stopping = true;
  while (ConnectionSlot* idle = slots.oldest_idle()) connection_of(*idle).close("server stopping");
}

void TcpThread::close_all() {
  while (evict_most_idle("server stopping")) {
  }
  reaper.cancel();
}

TcpListener::TcpListener(asio::io_context& io, const Endpoint& endpoint, TcpThread& thread)
    : acceptor_(io), retry_(io), thread_(thread) {
  tcp::endpoint ep(to_asio(endpoint.address), endpoint.port);
  std::string host = endpoint.address.to_string();
  if (endpoint.address.family == Family::V6) host = "[" + host + "]";
  name_ = "tcp " + host + ":" + std::to_string(endpoint.port);
  acceptor_.open(ep.protocol());
  int fd = acceptor_.native_handle();
  // A restarted server binds again while old connections linger in TIME_WAIT.
  so::set(fd, {SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"}, name_, so::Need::Required);
  // Every query thread listens on the same address; the kernel spreads connections.
  so::set(fd, {SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"}, name_, so::Need::Required);
  if (ep.protocol() == tcp::v6()) {
    // [::] must not take the IPv4 port too: 0.0.0.0 may be listed on its own.
    so::set(fd, {IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"}, name_, so::Need::Required);
  }
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void TcpListener::close() {
  error_code ignored;
  retry_.cancel();
  acceptor_.close(ignored);
}

void TcpListener::accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) return on_accept_error(ec);
    admit(std::move(socket));
    accept();
  });
}

void TcpListener::on_accept_error(const error_code& ec) {
  // Out of file descriptors: an idle connection gives its descriptor to the
  // newcomer waiting in the backlog, as gdnsd does.
  bool out_of_descriptors = ec == asio::error::no_descriptors || ec.value() == ENFILE;
  if (out_of_descriptors && thread_.evict_most_idle("out of file descriptors")) return accept();
  // Accepting again at once would fail again at once and spin this thread,
  // starving its UDP sockets.
  log::warning(name_ + ": accept failed: " + ec.message());
  retry_.expires_after(kAcceptRetryDelay);
  retry_.async_wait([this](const error_code& wait_ec) {
    if (!wait_ec) accept();
  });
}

void TcpListener::admit(tcp::socket socket) {
  // Refusing the newcomer would let idle clients hold every slot (RFC 7766 section
  // 6.2.3 leaves the choice to the server); the one idle the longest makes room.
  if (thread_.slots.full()) thread_.evict_most_idle("connection limit reached, most idle");
  std::make_shared<TcpConnection>(std::move(socket), thread_)->start();
}

}  // namespace geosteer::dns
