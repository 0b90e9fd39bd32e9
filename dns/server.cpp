#include "dns/server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include "common/asio.h"
#include <cstring>
#include <system_error>
#include <thread>

#include "common/log.h"

namespace geosteer::dns {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

constexpr size_t kMaxMessage = 65535;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

IpAddress from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &sin.sin_addr, 4);
    return IpAddress::v4(b);
  }
  const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), &sin6.sin6_addr, 16);
  // An IPv4 client on a dual-stack socket is still an IPv4 client for steering.
  if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) return IpAddress::v4({b[12], b[13], b[14], b[15]});
  return IpAddress::v6(b);
}

std::string describe(const Endpoint& e) {
  std::string host = e.address.to_string();
  if (e.address.family == Family::V6) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port);
}

// Datagrams moved per recvmmsg/sendmmsg call: under load one system call carries
// many queries (or replies) instead of one.
constexpr size_t kUdpBatch = 32;
// Wake-ups handled before yielding back to the event loop, so that one busy socket
// cannot starve the TCP connections served by the same thread.
constexpr int kUdpRoundsPerWakeup = 4;
// Largest query read over UDP; anything longer is not a DNS query we would answer
// (queries are a header and one question, plus an OPT record).
constexpr size_t kMaxUdpQuery = 4096;
// Largest reply: our EDNS payload size is at most 4096 (see the configuration).
constexpr size_t kMaxUdpReply = 4096;
constexpr size_t kControlSpace = 128;

// The destination address of a query (IP_PKTINFO / IPV6_PKTINFO), turned into the
// source address of its reply. Returns the control length to send, 0 for none.
size_t reply_control(msghdr& received, char* control) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&received); c != nullptr; c = CMSG_NXTHDR(&received, c)) {
    bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO;
    bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO;
    if (!v4 && !v6) continue;
    std::memcpy(control, c, c->cmsg_len);
    if (v4) {
      // Keep the destination as our source, let routing pick the interface.
      auto* info = reinterpret_cast<in_pktinfo*>(CMSG_DATA(reinterpret_cast<cmsghdr*>(control)));
      info->ipi_spec_dst = info->ipi_addr;
      info->ipi_ifindex = 0;
    }
    return CMSG_SPACE(v4 ? sizeof(in_pktinfo) : sizeof(in6_pktinfo));
  }
  return 0;
}

// A UDP socket read with recvmmsg and answered with sendmmsg, so that under load
// one system call moves a whole batch. Replies leave from the address the query
// arrived on (IP_PKTINFO): a server bound to a wildcard address on a multi-homed
// host must not answer from another address, or resolvers drop the reply.
class UdpListener {
 public:
  UdpListener(asio::io_context& io, const Endpoint& endpoint, QueryHandler& handler)
      : socket_(io), handler_(handler) {
    udp::endpoint ep(to_asio(endpoint.address), endpoint.port);
    socket_.open(ep.protocol());
    int one = 1;
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (ep.protocol() == udp::v6()) {
      socket_.set_option(asio::ip::v6_only(true));
      setsockopt(socket_.native_handle(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    } else {
      setsockopt(socket_.native_handle(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    }
    socket_.bind(ep);
    socket_.non_blocking(true);
  }

  uint16_t port() const { return socket_.local_endpoint().port(); }
  void start() { wait(); }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  struct Slot {
    sockaddr_storage peer;
    iovec in_iov, out_iov;
    alignas(cmsghdr) char in_control[kControlSpace];
    alignas(cmsghdr) char out_control[kControlSpace];
    uint8_t in[kMaxUdpQuery];
    uint8_t out[kMaxUdpReply];
  };

  void wait() {
    socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;  // closed
      for (int round = 0; round < kUdpRoundsPerWakeup; ++round) {
        if (answer_batch() < kUdpBatch) break;  // drained
      }
      wait();
    });
  }

  // Receives up to a batch, answers it, sends the replies; returns how many arrived.
  size_t answer_batch() {
    for (size_t i = 0; i < kUdpBatch; ++i) prepare_receive(i);
    int received = recvmmsg(socket_.native_handle(), received_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return 0;
    unsigned replies = 0;
    for (int i = 0; i < received; ++i) {
      if (answer(static_cast<size_t>(i), replies)) ++replies;
    }
    send_replies(replies);
    return static_cast<size_t>(received);
  }

  void prepare_receive(size_t i) {
    Slot& slot = slots_[i];
    slot.in_iov = {slot.in, sizeof slot.in};
    msghdr& msg = received_[i].msg_hdr;
    msg = msghdr{};
    msg.msg_name = &slot.peer;
    msg.msg_namelen = sizeof slot.peer;
    msg.msg_iov = &slot.in_iov;
    msg.msg_iovlen = 1;
    msg.msg_control = slot.in_control;
    msg.msg_controllen = sizeof slot.in_control;
  }

  // Answers datagram i into reply slot `reply`; false when there is nothing to send.
  bool answer(size_t i, unsigned reply) {
    Slot& slot = slots_[i];
    msghdr& in = received_[i].msg_hdr;
    if (in.msg_flags & MSG_TRUNC) return false;  // longer than any query: not DNS
    RequestInfo info{Transport::Udp, from_sockaddr(slot.peer)};
    size_t length = handler_.handle({slot.in, received_[i].msg_len}, info, {slot.out, sizeof slot.out});
    if (length == 0) return false;
    slot.out_iov = {slot.out, length};
    msghdr& out = replies_[reply].msg_hdr;
    out = msghdr{};
    out.msg_name = in.msg_name;
    out.msg_namelen = in.msg_namelen;
    out.msg_iov = &slot.out_iov;
    out.msg_iovlen = 1;
    if (size_t control = reply_control(in, slot.out_control)) {
      out.msg_control = slot.out_control;
      out.msg_controllen = control;
    }
    return true;
  }

  void send_replies(unsigned count) {
    unsigned sent = 0;
    while (sent < count) {
      int n = sendmmsg(socket_.native_handle(), replies_.data() + sent, count - sent, MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<unsigned>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // A full send buffer drops the rest, as a congested network would: clients retry.
      // A reply the kernel refuses (an unreachable peer) is skipped, not the batch.
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        ++sent;
        continue;
      }
      return;
    }
  }

  udp::socket socket_;
  QueryHandler& handler_;
  std::array<Slot, kUdpBatch> slots_{};
  std::array<mmsghdr, kUdpBatch> received_{};
  std::array<mmsghdr, kUdpBatch> replies_{};
};

// One TCP connection (RFC 7766): length-prefixed messages, several per connection,
// answered in order; closed after an idle timeout or when the client closes.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(tcp::socket socket, QueryHandler& handler, std::chrono::milliseconds idle_timeout,
                unsigned& open_count)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        handler_(handler),
        idle_timeout_(idle_timeout),
        open_count_(open_count) {
    ++open_count_;
    boost::system::error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) peer_ = from_asio(remote.address());
    socket_.set_option(tcp::no_delay(true), ec);
  }
  ~TcpConnection() { --open_count_; }

  void start() { read_length(); }

 private:
  void arm_idle_timer() {
    timer_.expires_after(idle_timeout_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();
    });
  }

  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  void read_length() {
    // The timer covers the whole wait for the next message, partial reads included,
    // so a client trickling bytes cannot hold the connection forever.
    arm_idle_timer();
    asio::async_read(socket_, asio::buffer(length_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (ec) return self->close();
                       size_t length = (self->length_[0] << 8) | self->length_[1];
                       if (length == 0) return self->close();
                       self->read_message(length);
                     });
  }

  void read_message(size_t length) {
    asio::async_read(socket_, asio::buffer(in_.data(), length),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                       if (ec) return self->close();
                       self->answer(n);
                     });
  }

  void answer(size_t length) {
    RequestInfo info{Transport::Tcp, peer_};
    size_t n = handler_.handle({in_.data(), length}, info, {out_.data() + 2, kMaxMessage});
    if (n == 0) return read_length();  // nothing to say (a response was sent to us)
    out_[0] = static_cast<uint8_t>(n >> 8);
    out_[1] = static_cast<uint8_t>(n & 0xFF);
    asio::async_write(socket_, asio::buffer(out_.data(), n + 2),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        if (ec) return self->close();
                        self->read_length();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  QueryHandler& handler_;
  std::chrono::milliseconds idle_timeout_;
  unsigned& open_count_;  // the worker's, which outlives every connection
  IpAddress peer_;
  std::array<uint8_t, 2> length_{};
  std::array<uint8_t, kMaxMessage> in_{};
  std::array<uint8_t, kMaxMessage + 2> out_{};
};

class TcpListener {
 public:
  TcpListener(asio::io_context& io, const Endpoint& endpoint, QueryHandler& handler,
              const ServerOptions& options, unsigned& open_connections)
      : acceptor_(io), retry_(io), handler_(handler), options_(options), open_(open_connections) {
    tcp::endpoint ep(to_asio(endpoint.address), endpoint.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    int one = 1;
    setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (ep.protocol() == tcp::v6()) acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void start() { accept(); }
  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        admit(std::move(socket));
        accept();
        return;
      }
      // Out of file descriptors, mostly: accepting again at once would fail again
      // at once and spin this thread, starving its UDP sockets.
      log::warning(std::string("tcp accept failed: ") + ec.message());
      retry_.expires_after(kAcceptRetryDelay);
      retry_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) accept();
      });
    });
  }

  void admit(tcp::socket socket) {
    if (open_ >= options_.tcp_max_connections) {
      // Over the limit: refuse this one rather than let idle clients starve new ones.
      log::debug("tcp connection limit reached, closing new connection");
      return;
    }
    std::make_shared<TcpConnection>(std::move(socket), handler_, options_.tcp_idle_timeout, open_)
        ->start();
  }

  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  QueryHandler& handler_;
  const ServerOptions& options_;
  unsigned& open_;
};

// A query thread: its own io_context and its own SO_REUSEPORT sockets, so threads
// share nothing and the kernel spreads queries across them.
struct Worker {
  // TCP connections open on this thread, across its listeners. Declared before the
  // io_context: connections still pending in it at shutdown count down on destruction.
  unsigned tcp_connections = 0;
  asio::io_context io{1};
  std::vector<std::unique_ptr<UdpListener>> udp;
  std::vector<std::unique_ptr<TcpListener>> tcp;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  QueryHandler& handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Endpoint> bound;  // endpoints with the ports actually bound

  Impl(ServerOptions o, QueryHandler& h) : options(std::move(o)), handler(h) {}

  void bind_all() {
    unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    bound = options.listen;
    for (unsigned t = 0; t < threads; ++t) {
      auto worker = std::make_unique<Worker>();
      for (auto& endpoint : bound) bind(*worker, endpoint);
      workers.push_back(std::move(worker));
    }
  }

  // Binds UDP and TCP for one endpoint in one worker. A port 0 (tests) is fixed by the
  // first UDP bind so that TCP and every other worker use the same port.
  void bind(Worker& worker, Endpoint& endpoint) {
    try {
      auto udp = std::make_unique<UdpListener>(worker.io, endpoint, handler);
      endpoint.port = udp->port();
      worker.udp.push_back(std::move(udp));
      worker.tcp.push_back(
          std::make_unique<TcpListener>(worker.io, endpoint, handler, options, worker.tcp_connections));
    } catch (const boost::system::system_error& e) {
      throw std::system_error(e.code().value(), std::generic_category(),
                              "cannot listen on " + describe(endpoint));
    }
  }
};

Server::Server(ServerOptions options, QueryHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {
  impl_->bind_all();
}

Server::~Server() = default;

void Server::run() {
  std::vector<std::thread> threads;
  for (auto& worker : impl_->workers) {
    for (auto& u : worker->udp) u->start();
    for (auto& t : worker->tcp) t->start();
    threads.emplace_back([&io = worker->io] { io.run(); });
  }
  for (auto& t : threads) t.join();
}

void Server::stop() {
  for (auto& worker : impl_->workers) {
    asio::post(worker->io, [&w = *worker] {
      for (auto& u : w.udp) u->close();
      for (auto& t : w.tcp) t->close();
      w.io.stop();
    });
  }
}

std::vector<Endpoint> Server::bound_udp() const { return impl_->bound; }

}  // namespace geosteer::dns
