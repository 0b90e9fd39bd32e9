// The publication protocol of snapshots: readers see a newly published snapshot at
// their next read and keep the old one alive until then.
#include <gtest/gtest.h>

#include <thread>

#include "app/loader.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::app {
namespace {

std::shared_ptr<const Snapshot> load(uint64_t generation) {
  std::string path = testing::write_temp_file("store.yaml", testing::expand(testing::test_config(), 5353));
  return build_snapshot(load_config(path, generation), nullptr);
}

TEST(SnapshotStore, ReaderSeesPublishedSnapshot) {
  SnapshotStore store;
  store.publish(load(1));
  SnapshotReader reader(store);
  EXPECT_EQ(reader.get().generation, 1u);
}

TEST(SnapshotStore, ReaderSwitchesAfterNextPublish) {
  SnapshotStore store;
  store.publish(load(1));
  SnapshotReader reader(store);
  const Snapshot& first = reader.get();
  store.publish(load(2));
  EXPECT_EQ(first.generation, 1u);  // still alive: the reader holds it
  EXPECT_EQ(reader.get().generation, 2u);
}

TEST(SnapshotStore, ConcurrentReadersNeverSeeAnOlderGenerationAfterANewer) {
  SnapshotStore store;
  store.publish(load(1));
  auto second = load(2);
  auto third = load(3);
  std::atomic<bool> ok{true};
  std::atomic<bool> done{false};
  std::thread reader_thread([&] {
    SnapshotReader reader(store);
    uint64_t last = 0;
    while (!done.load()) {
      uint64_t g = reader.get().generation;
      if (g < last) ok = false;
      last = g;
    }
  });
  store.publish(second);
  store.publish(third);
  done = true;
  reader_thread.join();
  EXPECT_TRUE(ok.load());
}

}  // namespace
}  // namespace geosteer::app
