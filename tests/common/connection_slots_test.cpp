// Connection slots: who is closed for a newcomer, and when each connection times out.
#include "common/connection_slots.h"

#include <gtest/gtest.h>

#include <vector>

namespace geosteer {
namespace {

using namespace std::chrono_literals;
using Clock = ConnectionSlots::Clock;

class ConnectionSlotsTest : public ::testing::Test {
 protected:
  ConnectionSlots slots{{.capacity = 3, .idle_timeout = 10s, .io_timeout = 2s}};
  Clock::time_point t0 = Clock::now();
  ConnectionSlot a, b, c, d;
};

TEST_F(ConnectionSlotsTest, IsFullAtCapacity) {
  slots.add(a, t0);
  slots.add(b, t0);
  EXPECT_FALSE(slots.full());
  slots.add(c, t0);
  EXPECT_TRUE(slots.full());
  EXPECT_EQ(slots.size(), 3u);
}

TEST_F(ConnectionSlotsTest, MostIdleIsTheOneWaitingLongest) {
  slots.add(a, t0);
  slots.add(b, t0 + 1s);
  slots.add(c, t0 + 2s);
  EXPECT_EQ(slots.most_idle(), &a);
}

TEST_F(ConnectionSlotsTest, AnsweringAQueryMakesAConnectionLeastIdle) {
  slots.add(a, t0);
  slots.add(b, t0 + 1s);
  slots.set_idle(a, t0 + 2s);  // a's query was answered: it waits anew
  EXPECT_EQ(slots.most_idle(), &b);
}

TEST_F(ConnectionSlotsTest, EvictionTakesIdleConnectionsBeforeBusyOnes) {
  slots.add(a, t0);
  slots.add(b, t0 + 1s);
  slots.set_busy(a, t0 + 2s);  // a has begun a message
  EXPECT_EQ(slots.most_idle(), &b);
}

TEST_F(ConnectionSlotsTest, EvictionTakesTheOldestBusyConnectionWhenNoneIsIdle) {
  slots.add(a, t0);
  slots.add(b, t0);
  slots.set_busy(b, t0 + 1s);
  slots.set_busy(a, t0 + 2s);
  EXPECT_EQ(slots.most_idle(), &b);
}

TEST_F(ConnectionSlotsTest, EvictionOrderFollowsIdlenessAsConnectionsAreRemoved) {
  slots.add(a, t0);
  slots.add(b, t0 + 1s);
  slots.add(c, t0 + 2s);
  std::vector<ConnectionSlot*> order;
  while (ConnectionSlot* victim = slots.most_idle()) {
    order.push_back(victim);
    slots.remove(*victim);
  }
  EXPECT_EQ(order, (std::vector<ConnectionSlot*>{&a, &b, &c}));
  EXPECT_EQ(slots.size(), 0u);
}

TEST_F(ConnectionSlotsTest, IdleConnectionExpiresAfterTheIdleTimeout) {
  slots.add(a, t0);
  EXPECT_EQ(slots.expired(t0 + 9s), nullptr);
  EXPECT_EQ(slots.expired(t0 + 10s), &a);
}

TEST_F(ConnectionSlotsTest, BusyConnectionExpiresAfterTheIoTimeout) {
  slots.add(a, t0);
  slots.set_busy(a, t0 + 1s);
  EXPECT_EQ(slots.expired(t0 + 2s), nullptr);
  EXPECT_EQ(slots.expired(t0 + 3s), &a);
}

TEST_F(ConnectionSlotsTest, MoreBytesOfTheSameMessageDoNotExtendTheIoTimeout) {
  slots.add(a, t0);
  slots.set_busy(a, t0);
  slots.set_busy(a, t0 + 1500ms);  // a trickling client sends another byte
  EXPECT_EQ(slots.expired(t0 + 2s), &a);
}

TEST_F(ConnectionSlotsTest, NextDeadlineIsTheEarliestOfBothTimeouts) {
  slots.add(a, t0);                 // idle: t0 + 10s
  slots.add(b, t0 + 1s);
  slots.set_busy(b, t0 + 1s);       // busy: t0 + 3s
  EXPECT_EQ(slots.next_deadline(), t0 + 3s);
  slots.remove(b);
  EXPECT_EQ(slots.next_deadline(), t0 + 10s);
  slots.remove(a);
  EXPECT_FALSE(slots.next_deadline().has_value());
}

TEST_F(ConnectionSlotsTest, DestroyedConnectionLeavesItsSlot) {
  {
    ConnectionSlot gone;
    slots.add(gone, t0);
    slots.add(a, t0 + 1s);
  }
  EXPECT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots.most_idle(), &a);
}

TEST(SlotReaperTest, ClosesTheConnectionsWhoseTimeoutPassed) {
  boost::asio::io_context io;
  ConnectionSlots slots{{.capacity = 4, .idle_timeout = 50ms, .io_timeout = 20ms}};
  std::vector<ConnectionSlot*> closed;
  SlotReaper reaper(io.get_executor(), slots, [&](ConnectionSlot& slot) {
    closed.push_back(&slot);
    slots.remove(slot);
  });
  ConnectionSlot idle, busy;
  auto now = Clock::now();
  slots.add(idle, now);
  slots.add(busy, now);
  slots.set_busy(busy, now);
  reaper.schedule();
  io.run_for(200ms);
  EXPECT_EQ(closed, (std::vector<ConnectionSlot*>{&busy, &idle}));
}

}  // namespace
}  // namespace geosteer
