// The drains `geosteer ctl drain` keeps across reloads and restarts.
#include "app/admin_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace geosteer::app {
namespace {

class AdminStateTest : public ::testing::Test {
 protected:
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("geosteer-admin-state-" + std::to_string(::getpid()) + "-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                        .string();
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(AdminStateTest, NoFileIsNoDrain) {
  AdminState state(dir);
  state.load();
  EXPECT_TRUE(state.drained().empty());
}

TEST_F(AdminStateTest, ADrainIsReadBackByTheNextProcess) {
  AdminState(dir).set_drained("berlin", true);  // creates the directory too
  AdminState next(dir);
  next.load();
  EXPECT_EQ(next.drained(), (std::set<std::string>{"berlin"}));
}

TEST_F(AdminStateTest, UndrainRemovesItFromTheFile) {
  AdminState state(dir);
  state.set_drained("berlin", true);
  state.set_drained("tokyo", true);
  state.set_drained("berlin", false);
  AdminState next(dir);
  next.load();
  EXPECT_EQ(next.drained(), (std::set<std::string>{"tokyo"}));
}

TEST_F(AdminStateTest, ABadLineIsNamedByFileAndLine) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/admin_state") << "# comment\ndrain berlin\nundrain tokyo\n";
  AdminState state(dir);
  try {
    state.load();
    FAIL() << "a bad line was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/admin_state:3: expected 'drain MIRROR' or 'withdrawn', got 'undrain tokyo'");
  }
}

TEST_F(AdminStateTest, AWithdrawnNodeStaysWithdrawnInTheNextProcess) {
  AdminState state(dir);
  state.set_drained("berlin", true);
  state.set_withdrawn(true);
  AdminState next(dir);
  next.load();
  EXPECT_TRUE(next.withdrawn());
  EXPECT_EQ(next.drained(), (std::set<std::string>{"berlin"}));
  next.set_withdrawn(false);
  AdminState after(dir);
  after.load();
  EXPECT_FALSE(after.withdrawn());
}

TEST_F(AdminStateTest, AFailedWriteChangesNothing) {
  std::filesystem::create_directories(dir);
  std::filesystem::create_directory(dir + "/admin_state.tmp");  // cannot be opened as a file
  AdminState state(dir);
  EXPECT_THROW(state.set_drained("berlin", true), std::runtime_error);
  EXPECT_TRUE(state.drained().empty());
}

}  // namespace
}  // namespace geosteer::app
