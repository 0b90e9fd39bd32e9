// server.user: started as root, the server binds, then runs as that user, and
// everything an operator does with it still works.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {

// The real user id of a process, from /proc.
std::string uid_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Uid:", 0) == 0) return fields(line)[1];
  }
  return "";
}

class ServerUser : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::geteuid(), 0u) << "this test starts the server as root"; }
  static std::string readable_config() {
    return with_server_setting(test_config(), "  user: nobody");
  }
};

TEST_F(ServerUser, TheServerRunsAsTheUserOnceBound) {
  GeosteerServer server(readable_config());
  EXPECT_EQ(uid_of(server.pid()), "65534");
  EXPECT_EQ(dig_status(server.dig("guix.example.org SOA")), "NOERROR");
  EXPECT_NE(server.log().find("running as user nobody (uid 65534"), std::string::npos) << server.log();
}

TEST_F(ServerUser, RootCanStillTalkToItAndDrainsAreSaved) {
  GeosteerServer server(readable_config());
  auto result = server.ctl("drain berlin");
  EXPECT_EQ(result.status, 0) << result.output << server.log();
  EXPECT_EQ(server.ctl("undrain berlin").status, 0);
}

TEST_F(ServerUser, AReloadReadsTheFilesAsTheUser) {
  GeosteerServer server(readable_config());
  std::string dir = std::filesystem::path(server.config_path()).parent_path().string();
  ASSERT_EQ(run_command("chmod o+rx " + dir + " && chmod o+r " + server.config_path()).status, 0);
  auto result = server.ctl("reload");
  EXPECT_EQ(result.status, 0) << result.output;
}

TEST_F(ServerUser, AFileTheUserCannotReadFailsTheReloadWithTheReason) {
  GeosteerServer server(readable_config());
  ASSERT_EQ(run_command("chmod 0600 " + server.config_path()).status, 0);
  auto result = server.ctl("reload");
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("ermission denied"), std::string::npos) << result.output;
  EXPECT_EQ(dig_status(server.dig("guix.example.org SOA")), "NOERROR");
}

TEST_F(ServerUser, ItStopsCleanly) {
  GeosteerServer server(readable_config());
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace geosteer::testing
