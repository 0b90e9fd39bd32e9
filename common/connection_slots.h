// The connection slots of one thread of a server (DNS over TCP, the monitoring HTTP
// port), so that idle clients cannot hold them: each connection is either idle
// (waiting for the client's next message, under a short idle timeout) or busy (a
// message partly read or a response partly written, under the I/O timeout, counted
// from the message's start so that trickling bytes does not extend it). When every
// slot is taken, the server closes the connection idle the longest to make room for
// a newcomer, as gdnsd does, instead of refusing the newcomer.
//
// Intrusive and allocation-free: a connection derives from ConnectionSlot. Not
// thread-safe: one ConnectionSlots per thread, touched on that thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

#include "common/asio.h"

namespace geosteer {

class ConnectionSlots;

class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot();

  bool busy() const { return busy_; }

 private:
  friend class ConnectionSlots;
  ConnectionSlots* owner_ = nullptr;
  ConnectionSlot* prev_ = nullptr;
  ConnectionSlot* next_ = nullptr;
  std::chrono::steady_clock::time_point since_{};
  bool busy_ = false;
};

class ConnectionSlots {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    size_t capacity = 512;
    std::chrono::milliseconds idle_timeout{10000};  // between messages
    std::chrono::milliseconds io_timeout{3000};     // for one message, read or written
  };

  explicit ConnectionSlots(Limits limits) : limits_(limits) {}
  ConnectionSlots(const ConnectionSlots&) = delete;
  ConnectionSlots& operator=(const ConnectionSlots&) = delete;
  ~ConnectionSlots();  // forgets the connections still registered

  const Limits& limits() const { return limits_; }
  size_t size() const { return size_; }
  bool full() const { return size_ >= limits_.capacity; }
  bool contains(const ConnectionSlot& slot) const { return slot.owner_ == this; }

  // Registers a new connection, idle since `now`. Make room first (most_idle()) when full.
  void add(ConnectionSlot& slot, Clock::time_point now);
  // Forgets a connection; nothing happens when it is not registered.
  void remove(ConnectionSlot& slot);
  // The connection waits for the client's next message: the idle timeout runs from now.
  void set_idle(ConnectionSlot& slot, Clock::time_point now);
  // A message is in progress: the I/O timeout runs from now, or from the time the
  // message began when the connection is already busy.
  void set_busy(ConnectionSlot& slot, Clock::time_point now);

  // The connection to close for a newcomer: the one idle the longest, else (every
  // connection busy) the one whose message has been in progress the longest.
  ConnectionSlot* most_idle() const;
  // The connection idle the longest, or nullptr when every one is busy (or none is open).
  ConnectionSlot* oldest_idle() const { return idle_.head; }
  // A connection whose timeout has passed at `now`, or nullptr.
  ConnectionSlot* expired(Clock::time_point now) const;
  // When the next connection times out, if any is registered.
  std::optional<Clock::time_point> next_deadline() const;

 private:
  struct List {
    ConnectionSlot* head = nullptr;  // oldest `since`
    ConnectionSlot* tail = nullptr;
  };
  static void append(List& list, ConnectionSlot& slot);
  static void unlink(List& list, ConnectionSlot& slot);
  List& list_of(const ConnectionSlot& slot) { return slot.busy_ ? busy_ : idle_; }
  Clock::time_point deadline(const ConnectionSlot& slot) const;

  Limits limits_;
  List idle_;
  List busy_;
  size_t size_ = 0;
};

// Closes the connections of a ConnectionSlots when their timeouts pass, with one
// timer for them all, armed at the earliest deadline.
class SlotReaper {
 public:
  using Close = std::function<void(ConnectionSlot&)>;  // must remove the slot

  SlotReaper(const boost::asio::any_io_executor& executor, ConnectionSlots& slots, Close close)
      : timer_(executor), slots_(slots), close_(std::move(close)) {}

  // Call after a change that may bring the earliest deadline closer (a new
  // connection, a connection turning busy); cheap when it does not.
  void schedule();
  void cancel();

 private:
  void reap();

  boost::asio::steady_timer timer_;
  ConnectionSlots& slots_;
  Close close_;
  std::optional<ConnectionSlots::Clock::time_point> armed_at_;
};

}  // namespace geosteer
