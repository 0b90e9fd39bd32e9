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

TEST(SnapshotStore, ConcurrentReaderFollowsEveryPublicationInOrder) {
  SnapshotStore store;
  auto loaded = load_config(testing::write_temp_file("store.yaml",
                                                     testing::expand(testing::test_config(), 5353)),
                            1);
  store.publish(build_snapshot(loaded, nullptr));
  constexpr uint64_t kLast = 200;
  std::atomic<uint64_t> seen{0};
  std::atomic<bool> backwards{false};
  std::thread reader_thread([&] {
    SnapshotReader reader(store);
    while (seen.load() < kLast) {
      uint64_t version = reader.get().loaded->generation;
      if (version < seen.load()) backwards = true;
      seen = version;
    }
  });
  // Each publication a new generation, built beforehand so the loop only publishes.
  std::vector<std::shared_ptr<const Snapshot>> snapshots;
  for (uint64_t g = 2; g <= kLast; ++g) {
    auto next = std::make_shared<LoadedConfig>(*loaded);
    next->generation = g;
    snapshots.push_back(build_snapshot(next, nullptr));
  }
  while (seen.load() < 1) std::this_thread::yield();  // the reader runs
  for (auto& snapshot : snapshots) store.publish(snapshot);
  reader_thread.join();
  EXPECT_FALSE(backwards.load());
  EXPECT_EQ(seen.load(), kLast);  // the last publication reached the reader
}

}  // namespace
}  // namespace geosteer::app
