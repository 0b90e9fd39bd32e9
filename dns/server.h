// UDP and TCP listeners (RFC 1035, RFC 7766) on Boost.Asio. The server knows
// sockets and message framing only; it hands each message to a QueryHandler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dns/responder.h"

namespace geosteer::dns {

// Called on the query threads, concurrently. Must not block.
class QueryHandler {
 public:
  virtual ~QueryHandler() = default;
  virtual size_t handle(std::span<const uint8_t> query, const RequestInfo& info,
                        std::span<uint8_t> out) = 0;
};

struct Endpoint {
  IpAddress address;
  uint16_t port = 53;
};
// "192.0.2.1:53", "[2001:db8::1]:53": for logs and errors.
std::string to_string(const Endpoint& endpoint);

struct ServerOptions {
  std::vector<Endpoint> listen;
  unsigned threads = 0;  // 0: one per core
  // RFC 7766 section 6.2.3: a connection waiting for its next query is closed after
  // the idle timeout; one whose query is partly read or response partly written,
  // after the I/O timeout from that message's start.
  std::chrono::milliseconds tcp_idle_timeout{10000};
  std::chrono::milliseconds tcp_io_timeout{3000};
  // Per thread. When all are taken, the connection idle the longest is closed to
  // make room for a new one.
  unsigned tcp_max_connections = 512;
};

class Server {
 public:
  // Binds every endpoint for UDP and TCP; throws std::system_error naming the
  // endpoint when one cannot be bound, or the option and the socket when the kernel
  // refuses a socket option the server needs.
  Server(ServerOptions options, QueryHandler& handler);
  ~Server();

  // Serves until stop(); runs the query threads and returns when they have ended.
  void run();
  // Stops reading queries: UDP sockets and TCP listeners close at once, idle TCP
  // connections too, and (FinishInFlight) a TCP connection in the middle of a message
  // closes once its response is written, at most its I/O timeout later, or (Now) at
  // once; run() then returns. Safe from any thread and from signal-handling code
  // running on an Asio context.
  enum class Stop { FinishInFlight, Now };
  void stop(Stop how = Stop::FinishInFlight);

  // Actual bound ports (useful when a port 0 was asked for), in listen order.
  std::vector<Endpoint> bound_udp() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace geosteer::dns
