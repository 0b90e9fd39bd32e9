// The publication protocol of snapshots: a query pins the current snapshot; a
// replaced snapshot is freed by reclaim() (the control thread) once no query pins
// it, never by a query thread, and a thread that is not answering holds nothing.
#include <gtest/gtest.h>

#include <thread>

#include "app/loader.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::app {
namespace {

std::shared_ptr<const LoadedConfig> loaded_config() {
  static auto loaded = load_config(
      testing::write_temp_file("store.yaml", testing::expand(testing::test_config(), 5353)), 1);
  return loaded;
}

std::shared_ptr<const Snapshot> snapshot(uint64_t generation) {
  auto next = std::make_shared<LoadedConfig>(*loaded_config());
  next->generation = generation;
  return build_snapshot(next, nullptr);
}

TEST(SnapshotStore, ReaderPinsThePublishedSnapshot) {
  SnapshotStore store;
  store.publish(snapshot(1));
  SnapshotReader reader(store);
  EXPECT_EQ(reader.pin()->generation, 1u);
}

TEST(SnapshotStore, NextPinSeesTheNextPublication) {
  SnapshotStore store;
  store.publish(snapshot(1));
  SnapshotReader reader(store);
  { EXPECT_EQ(reader.pin()->generation, 1u); }
  store.publish(snapshot(2));
  EXPECT_EQ(reader.pin()->generation, 2u);
}

TEST(SnapshotStore, PinnedSnapshotOutlivesItsReplacementUntilUnpinned) {
  SnapshotStore store;
  auto first = snapshot(1);
  std::weak_ptr<const Snapshot> watch = first;
  store.publish(std::move(first));
  SnapshotReader reader(store);
  {
    auto pinned = reader.pin();
    store.publish(snapshot(2));
    EXPECT_EQ(store.reclaim(), 1u);  // still held by the pin
    EXPECT_FALSE(watch.expired());
    EXPECT_EQ(pinned->generation, 1u);
  }
  EXPECT_EQ(store.reclaim(), 0u);
  EXPECT_TRUE(watch.expired());
}

TEST(SnapshotStore, UnpinningNeverFreesTheSnapshotOnTheQueryThread) {
  SnapshotStore store;
  auto first = snapshot(1);
  std::weak_ptr<const Snapshot> watch = first;
  store.publish(std::move(first));
  SnapshotReader reader(store);
  {
    auto pinned = reader.pin();
    store.publish(snapshot(2));
  }
  EXPECT_FALSE(watch.expired());  // only reclaim() frees it
  store.reclaim();
  EXPECT_TRUE(watch.expired());
}

// A query thread that gets no queries must not keep an old snapshot, and with it the
// mapping of a GeoIP file that was replaced on disk.
TEST(SnapshotStore, IdleReaderHoldsNoOldSnapshot) {
  SnapshotStore store;
  auto first = snapshot(1);
  std::weak_ptr<const Snapshot> watch = first;
  store.publish(std::move(first));
  SnapshotReader idle(store);
  { auto answered_once = idle.pin(); }
  store.publish(snapshot(2));
  EXPECT_EQ(store.reclaim(), 0u);
  EXPECT_TRUE(watch.expired());
}

TEST(SnapshotStore, CurrentSnapshotIsNeverReclaimed) {
  SnapshotStore store;
  store.publish(snapshot(1));
  EXPECT_EQ(store.reclaim(), 0u);
  EXPECT_EQ(store.current()->generation, 1u);
}

TEST(SnapshotStore, ReaderSlotsAreBoundedAndReturned) {
  SnapshotStore store(2);
  store.publish(snapshot(1));
  {
    SnapshotReader a(store), b(store);
    EXPECT_THROW(SnapshotReader c(store), std::runtime_error);
  }
  SnapshotReader again(store);  // the slots came back
  EXPECT_EQ(again.pin()->generation, 1u);
}

TEST(SnapshotStore, ConcurrentReaderFollowsEveryPublicationInOrderAndNothingLeaks) {
  SnapshotStore store;
  store.publish(snapshot(1));
  constexpr uint64_t kLast = 200;
  std::vector<std::shared_ptr<const Snapshot>> snapshots;
  std::vector<std::weak_ptr<const Snapshot>> watches;
  for (uint64_t g = 2; g <= kLast; ++g) snapshots.push_back(snapshot(g));
  for (auto& s : snapshots) watches.push_back(s);
  std::atomic<uint64_t> seen{0};
  std::atomic<bool> backwards{false};
  std::thread reader_thread([&] {
    SnapshotReader reader(store);
    while (seen.load() < kLast) {
      auto pinned = reader.pin();
      uint64_t version = pinned->loaded->generation;  // reads the snapshot's memory
      if (version < seen.load()) backwards = true;
      seen = version;
    }
  });
  while (seen.load() < 1) std::this_thread::yield();  // the reader runs
  for (auto& s : snapshots) {
    store.publish(std::move(s));
    store.reclaim();  // concurrently with the reader's pins: ASan sees any early free
  }
  reader_thread.join();
  EXPECT_FALSE(backwards.load());
  EXPECT_EQ(seen.load(), kLast);  // the last publication reached the reader
  EXPECT_EQ(store.reclaim(), 0u);
  for (size_t i = 0; i + 1 < watches.size(); ++i) EXPECT_TRUE(watches[i].expired()) << i;
}

}  // namespace
}  // namespace geosteer::app
