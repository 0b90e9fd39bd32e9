// `geosteer ctl` against a running server: status, reload with its outcome, drains
// that take effect at once and last, stop, and the errors a user can make.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {

const std::string kBerlinQuery = "substitutes.guix.example.org A +subnet=130.149.7.0/24 +short";
const std::string kBerlin = "141.80.181.40";

class Ctl : public ::testing::Test {
 protected:
  GeosteerServer server{test_config()};

  std::vector<std::string> berlin_answer() { return short_lines(server.dig(kBerlinQuery)); }
  bool berlin_answered() {
    auto answer = berlin_answer();
    return std::find(answer.begin(), answer.end(), kBerlin) != answer.end();
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(Ctl, StatusNamesTheGenerationTheFileAndEachServicesMirrors) {
  auto result = server.ctl("status");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "generation 1 of " + server.config_path())) << result.output;
  EXPECT_TRUE(contains(result.output, "service substitutes.guix.example.org.  A from healthy, AAAA from healthy"))
      << result.output;
  EXPECT_TRUE(contains(result.output, "  berlin        up")) << result.output;
}

TEST_F(Ctl, StatusJsonIsJsonForMachines) {
  auto result = run_command(std::string(GEOSTEER_BINARY) + " ctl -s " + server.control_socket() +
                            " status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); "
                            "print(d[\"generation\"], d[\"services\"][0][\"mirrors\"][0][\"id\"])'");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "1 berlin\n");
}

TEST_F(Ctl, ReloadWaitsAndSaysItReloaded) {
  std::string config = test_config();
  config.replace(config.find("serial: 2026112401"), 18, "serial: 2026112402");
  server.rewrite_config(config);
  auto result = server.ctl("reload");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "reloaded\n");
  EXPECT_TRUE(contains(server.dig("guix.example.org SOA +short"), "2026112402"));
}

TEST_F(Ctl, AFailedReloadPrintsTheErrorsWithTheirPositionAndExitsOne) {
  std::string config = test_config();
  config.replace(config.find("  identity:"), 11, "  identiti:");
  server.rewrite_config(config);
  auto result = server.ctl("reload");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_TRUE(contains(result.output, server.config_path() + ":3:3: error: unknown key 'identiti'"))
      << result.output;
  EXPECT_TRUE(contains(result.output, "the previous configuration still serves")) << result.output;
  EXPECT_TRUE(berlin_answered());
}

TEST_F(Ctl, DrainTakesTheMirrorOutOfTheAnswersAtOnce) {
  ASSERT_TRUE(berlin_answered());
  auto result = server.ctl("drain berlin");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_FALSE(berlin_answered()) << "still answered: " << server.dig(kBerlinQuery);
  EXPECT_TRUE(contains(server.ctl("status").output, "  berlin        drained"));
  EXPECT_TRUE(contains(server.http_get("/metrics"), "geosteer_mirror_drained{mirror=\"berlin\"} 1"));
}

TEST_F(Ctl, UndrainPutsItBack) {
  ASSERT_EQ(server.ctl("drain berlin").status, 0);
  auto result = server.ctl("undrain berlin");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_TRUE(berlin_answered());
}

TEST_F(Ctl, ADrainLastsThroughAReload) {
  ASSERT_EQ(server.ctl("drain berlin").status, 0);
  ASSERT_EQ(server.ctl("reload").status, 0);
  EXPECT_FALSE(berlin_answered());
}

TEST_F(Ctl, ADrainLastsThroughARestart) {
  ASSERT_EQ(server.ctl("drain berlin").status, 0);
  server.restart();
  EXPECT_FALSE(berlin_answered());
  EXPECT_TRUE(contains(server.log(), "mirror berlin is drained")) << server.log();
}

TEST_F(Ctl, DrainingAMirrorTheConfigurationLacksNamesTheMirrorsThereAre) {
  auto result = server.ctl("drain berlinn");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.output, "no mirror 'berlinn' in " + server.config_path() +
                                          " (mirrors: berlin, bordeaux,"))
      << result.output;
}

TEST_F(Ctl, AnUnknownCommandIsAnErrorListingTheCommands) {
  auto result = server.ctl("restart");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.output, "unknown command 'restart' (commands: status, reload,"))
      << result.output;
}

TEST_F(Ctl, AnycastCommandsSayThereIsNoAnycastHere) {
  auto result = server.ctl("withdraw");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.output, "anycast is not configured on this node")) << result.output;
}

TEST(CtlStop, StopDrainsThenExitsCleanly) {
  GeosteerServer server(with_server_setting(test_config(), "  drain_time: 1s"));
  auto result = server.ctl("stop");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(30)), 0) << server.log();
  EXPECT_TRUE(contains(server.log(), "stopping (ctl stop): /healthz answers 503")) << server.log();
}

TEST_F(Ctl, APeerThatIsNeitherRootNorTheServersUserIsRefused) {
  // The file's mode would let anyone connect; the server checks who did.
  std::string socket = server.control_socket();
  std::string dir = socket.substr(0, socket.rfind('/'));
  ASSERT_EQ(run_command("chmod 0666 " + socket + " && chmod o+x " + dir + " " +
                        dir.substr(0, dir.rfind('/'))).status, 0);
  auto result = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " +
                            std::string(GEOSTEER_BINARY) + " ctl -s " + server.control_socket() +
                            " status");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "permission denied")) << result.output;
}

TEST(CtlWithoutServer, NoServerIsExitTwoWithAHint) {
  auto result = run_command(std::string(GEOSTEER_BINARY) + " ctl -s /nonexistent/control.sock status");
  EXPECT_EQ(result.status, 2);
  EXPECT_TRUE(contains(result.output, "cannot reach a server at /nonexistent/control.sock")) << result.output;
}

TEST_F(Ctl, ASecondServerOnTheSameControlSocketFailsToStart) {
  std::string other = write_temp_file("other.yaml", expand(test_config(), free_port()));
  auto result = run_command(std::string(GEOSTEER_BINARY) + " serve -c " + other + " --control-socket " +
                            server.control_socket() + " --state-dir /tmp");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "another server answers there")) << result.output;
  EXPECT_EQ(server.ctl("status").status, 0) << "the first server lost its control socket";
}

}  // namespace
}  // namespace geosteer::testing
