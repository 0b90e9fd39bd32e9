// DNS over TCP (RFC 7766) for one query thread; internal to dns/ (see server.h).
//
// Buffers belong to the thread, not to the connection, as in Knot's TCP handler:
// a connection is answered from the thread's input and output buffers while its
// data is in hand, and keeps between reads only what it must: the start of a
// message not yet whole (in a pooled chunk, returned when the message is), or the
// rest of a response the client is slow to read. An idle connection holds a socket
// and a few pointers. When every slot is taken, the connection idle the longest
// is closed for the newcomer (common/connection_slots.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/connection_slots.h"
#include "dns/server.h"

namespace geosteer::dns {

// Largest query read over TCP, as over UDP: a query is a header, one question and
// an OPT RR; a longer message is no query we would answer, and the connection is closed.
constexpr size_t kMaxTcpQuery = 4096;
// One length-prefixed query: the most a connection ever keeps of its input.
constexpr size_t kTcpInputCapacity = 2 + kMaxTcpQuery;
// One length-prefixed response.
constexpr size_t kTcpOutputCapacity = 2 + 65535;
// Connections of one thread whose client reads slower than we answer, each keeping
// the rest of one response; past that, a connection that would block is closed.
constexpr unsigned kMaxSlowReaders = 32;

// Fixed-size buffers taken and given back, kept for reuse so that the steady path
// does not allocate.
template <size_t N>
class ChunkPool {
 public:
  using Chunk = std::array<uint8_t, N>;
  using Ptr = std::unique_ptr<Chunk>;

  explicit ChunkPool(size_t keep) : keep_(keep) { free_.reserve(keep); }
  Ptr take() {
    if (free_.empty()) return Ptr(new Chunk);  // uninitialised: it is written before read
    Ptr chunk = std::move(free_.back());
    free_.pop_back();
    return chunk;
  }
  void give(Ptr chunk) {
    if (chunk && free_.size() < keep_) free_.push_back(std::move(chunk));
  }

 private:
  size_t keep_;
  std::vector<Ptr> free_;
};

// What the TCP side of one query thread shares between its listeners and connections.
// The ConnectionSlots it uses outlives it and the io_context (connections still
// pending in the io_context at shutdown leave their slot when they are destroyed).
class TcpThread {
 public:
  TcpThread(boost::asio::io_context& io, ConnectionSlots& slots, QueryHandler& handler,
            const ServerOptions& options);

  // Closes the connection idle the longest, if any, to make room; false when none is open.
  bool evict_most_idle(std::string_view why);
  void close_all();
  // The server stops: idle connections close now, and a connection in the middle
  // of a message closes once that message is answered and its response written
  // (or its I/O timeout passes). done() tells when none is left.
  void finish_and_close();
  bool done() const { return slots.size() == 0; }
  bool stopping = false;

  QueryHandler& handler;
  ConnectionSlots& slots;
  SlotReaper reaper;
  uint16_t keepalive;  // RFC 7828 TIMEOUT: the idle timeout in units of 100 ms
  std::array<uint8_t, kTcpInputCapacity> input;
  std::array<uint8_t, kTcpOutputCapacity> output;
  ChunkPool<kTcpInputCapacity> inputs;
  ChunkPool<kTcpOutputCapacity> outputs;
  unsigned slow_readers = 0;
};

class TcpListener {
 public:
  // Binds and listens; throws boost::system::system_error or std::system_error.
  TcpListener(boost::asio::io_context& io, const Endpoint& endpoint, TcpThread& thread);

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void start() { accept(); }
  void close();

 private:
  void accept();
  void on_accept_error(const boost::system::error_code& ec);
  void admit(boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  TcpThread& thread_;
  std::string name_;  // "tcp 127.0.0.1:53", for messages
};

}  // namespace geosteer::dns
