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
#include "common/socket_options.h"
#include "dns/tcp.h"

namespace geosteer::dns {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

namespace so = socket_options;

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
// arrived on: a server bound to a wildcard address on a multi-homed host must not
// answer from another address, or resolvers drop the reply, so a wildcard socket
// reads each query's destination (IP_PKTINFO) and sends from it; a socket bound to
// one address answers from that address without.
class UdpListener {
 public:
  UdpListener(asio::io_context& io, const Endpoint& endpoint, QueryHandler& handler)
      : socket_(io), handler_(handler), wildcard_(endpoint.address.is_unspecified()) {
    udp::endpoint ep(to_asio(endpoint.address), endpoint.port);
    std::string name = "udp " + to_string(endpoint);
    socket_.open(ep.protocol());
    int fd = socket_.native_handle();
    bool v6 = ep.protocol() == udp::v6();
    // Every query thread binds the same address; the kernel spreads queries.
    so::set(fd, {SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"}, name, so::Need::Required);
    if (v6) so::set(fd, {IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"}, name, so::Need::Required);
    // A socket bound to one address answers from it; only a wildcard socket needs
    // each query's destination address to answer from (and the kernel's work of
    // passing it in and reading it back, on every datagram, only then).
    if (wildcard_ && v6) {
      so::set(fd, {IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"}, name,
              so::Need::Required);
    } else if (wildcard_) {
      so::set(fd, {IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO"}, name, so::Need::Required);
    }
    so::ignore_path_mtu(fd, v6, name);
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
    if (wildcard_) {
      msg.msg_control = slot.in_control;
      msg.msg_controllen = sizeof slot.in_control;
    }
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
    if (size_t control = wildcard_ ? reply_control(in, slot.out_control) : 0) {
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
  const bool wildcard_;  // bound to 0.0.0.0 or ::
  std::array<Slot, kUdpBatch> slots_{};
  std::array<mmsghdr, kUdpBatch> received_{};
  std::array<mmsghdr, kUdpBatch> replies_{};
};

// Fails when another process already listens on `endpoint`, by UDP or TCP.
// Linux lets any socket of the same user join a SO_REUSEPORT group, so a second
// `geosteer serve` on the same address would start silently and take half the
// queries. A socket without SO_REUSEPORT cannot join the group: binding one first
// tells whether anybody holds the port. It is closed before the real sockets bind,
// so two servers started in the same instant may both pass; one started later
// cannot. The TCP probe sets SO_REUSEADDR, as the listeners do, so connections
// lingering in TIME_WAIT from a previous run do not count as a holder.
void ensure_not_in_use(const Endpoint& endpoint) {
  asio::io_context io;
  boost::system::error_code ec;
  const bool v6 = endpoint.address.family == Family::V6;
  udp::socket datagram(io);
  datagram.open(v6 ? udp::v6() : udp::v4());
  if (v6) datagram.set_option(asio::ip::v6_only(true));
  datagram.bind(udp::endpoint(to_asio(endpoint.address), endpoint.port), ec);
  datagram.close();
  std::string_view protocol = "UDP";
  if (!ec) {
    asio::ip::tcp::acceptor stream(io);
    stream.open(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4());
    stream.set_option(asio::socket_base::reuse_address(true));
    if (v6) stream.set_option(asio::ip::v6_only(true));
    stream.bind(asio::ip::tcp::endpoint(to_asio(endpoint.address), endpoint.port), ec);
    protocol = "TCP";
  }
  if (ec == asio::error::address_in_use) {
    throw std::system_error(ec.value(), std::generic_category(),
                            "cannot listen on " + to_string(endpoint) + ": another process holds " +
                                std::string(protocol) + " port " + std::to_string(endpoint.port) +
                                " there (a second geosteer serve, or another DNS server)");
  }
  // Any other error (no such address here, no permission) is the real bind's to report.
}

constexpr std::chrono::milliseconds kFinishPoll{20};
constexpr std::chrono::milliseconds kStopMargin{500};

// A query thread: its own io_context and its own SO_REUSEPORT sockets, so threads
// share nothing and the kernel spreads queries across them.
struct Worker {
  explicit Worker(const ServerOptions& options, QueryHandler& handler)
      : tcp_slots({options.tcp_max_connections, options.tcp_idle_timeout, options.tcp_io_timeout}),
        tcp_thread(std::make_unique<TcpThread>(io, tcp_slots, handler, options)) {}

  // Members are destroyed in reverse order. The slots come before the io_context:
  // TCP connections still pending in it at shutdown leave their slot when the
  // io_context destroys them. Everything owning a timer or a socket comes after it.
  ConnectionSlots tcp_slots;
  asio::io_context io{1};
  std::unique_ptr<TcpThread> tcp_thread;
  std::vector<std::unique_ptr<UdpListener>> udp;
  std::vector<std::unique_ptr<TcpListener>> tcp;
  asio::steady_timer finish_timer{io};
  std::chrono::steady_clock::time_point finish_deadline;
  bool stopping = false;

  // Stopping: the thread ends once its last TCP connection has finished its message.
  void end_when_connections_finish() {
    if (tcp_thread->done() || std::chrono::steady_clock::now() >= finish_deadline) {
      tcp_thread->close_all();
      io.stop();
      return;
    }
    finish_timer.expires_after(kFinishPoll);
    finish_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) end_when_connections_finish();
    });
  }
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
    for (const auto& endpoint : bound) {
      if (endpoint.port != 0) ensure_not_in_use(endpoint);  // port 0: a fresh port, nobody's
    }
    for (unsigned t = 0; t < threads; ++t) {
      auto worker = std::make_unique<Worker>(options, handler);
      for (auto& endpoint : bound) bind(*worker, endpoint);
      workers.push_back(std::move(worker));
    }
  }

  // Binds UDP and TCP for one endpoint in one worker. A port 0 (tests) is fixed by the
  // first UDP bind so that TCP and every other worker use the same port; that port
  // may be taken for TCP already (a client socket of the same number), then another
  // is picked.
  void bind(Worker& worker, Endpoint& endpoint) {
    constexpr int kPortAttempts = 20;
    bool pick_port = endpoint.port == 0;
    for (int attempt = 1;; ++attempt) {
      try {
        auto udp = std::make_unique<UdpListener>(worker.io, endpoint, handler);
        Endpoint fixed{endpoint.address, udp->port()};
        auto tcp = std::make_unique<TcpListener>(worker.io, fixed, *worker.tcp_thread);
        endpoint = fixed;
        worker.udp.push_back(std::move(udp));
        worker.tcp.push_back(std::move(tcp));
        return;
      } catch (const boost::system::system_error& e) {
        bool taken = e.code() == boost::asio::error::address_in_use;
        if (pick_port && taken && attempt < kPortAttempts) continue;
        throw std::system_error(e.code().value(), std::generic_category(),
                                "cannot listen on " + to_string(endpoint));
      }
      // A socket option the server needs and was refused throws std::system_error
      // naming the option and the socket (common/socket_options.h).
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

void Server::stop(Stop how) {
  for (auto& worker : impl_->workers) {
    asio::post(worker->io, [&w = *worker, io_timeout = impl_->options.tcp_io_timeout, how] {
      if (how == Stop::Now) {
        w.stopping = true;
        w.finish_timer.cancel();
        for (auto& u : w.udp) u->close();
        for (auto& t : w.tcp) t->close();
        w.tcp_thread->close_all();
        w.io.stop();
        return;
      }
      if (w.stopping) return;
      w.stopping = true;
      for (auto& u : w.udp) u->close();
      for (auto& t : w.tcp) t->close();
      w.tcp_thread->finish_and_close();
      // Connections in the middle of a message have at most their I/O timeout left
      // (the reaper closes them then); the margin covers the reaper's own timer.
      w.finish_deadline = std::chrono::steady_clock::now() + io_timeout + kStopMargin;
      w.end_when_connections_finish();
    });
  }
}

std::vector<Endpoint> Server::bound_udp() const { return impl_->bound; }

std::string to_string(const Endpoint& endpoint) {
  std::string host = endpoint.address.to_string();
  if (endpoint.address.family == Family::V6) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port);
}

}  // namespace geosteer::dns
