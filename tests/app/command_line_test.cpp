// The command line as a new user meets it: --version, a command's own --help, and
// usage errors.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"

namespace geosteer::app {
namespace {

struct Parsed {
  bool ok;
  CommandLine cl;
  std::string errors;
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "geosteer");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  Parsed p{false, {}, {}};
  std::ostringstream err;
  p.ok = parse_command_line(static_cast<int>(argv.size()), argv.data(), p.cl, err);
  p.errors = err.str();
  return p;
}

std::string usage_of(const std::string& command) {
  std::ostringstream out;
  print_command_usage(command, out);
  return out.str();
}

TEST(CommandLine, DashDashVersionIsTheVersionCommand) {
  for (const char* flag : {"--version", "-V"}) {
    auto p = parse({flag});
    ASSERT_TRUE(p.ok) << flag << ": " << p.errors;
    EXPECT_EQ(p.cl.command, "version") << flag;
  }
}

TEST(CommandLine, ACommandsHelpAsksForThatCommandsUsageWithoutAConfig) {
  auto p = parse({"serve", "--help"});
  ASSERT_TRUE(p.ok) << p.errors;
  EXPECT_EQ(p.cl.command, "serve");
  EXPECT_TRUE(p.cl.help);
}

TEST(CommandLine, HelpWithACommandIsThatCommandsHelp) {
  auto p = parse({"help", "probe"});
  ASSERT_TRUE(p.ok) << p.errors;
  EXPECT_EQ(p.cl.command, "probe");
  EXPECT_TRUE(p.cl.help);
}

TEST(CommandLine, EachCommandsUsageNamesItsOwnOptions) {
  EXPECT_EQ(usage_of("serve").rfind("usage: geosteer serve -c FILE", 0), 0u) << usage_of("serve");
  EXPECT_NE(usage_of("serve").find("SIGHUP"), std::string::npos);
  EXPECT_NE(usage_of("locate").find("--service NAME"), std::string::npos);
  EXPECT_NE(usage_of("probe").find("--mirror ID"), std::string::npos);
  EXPECT_EQ(usage_of("check").find("--mirror"), std::string::npos) << "probe's option in check's help";
  EXPECT_EQ(usage_of("serve").find("commands:"), std::string::npos) << "the general text, not serve's";
}

TEST(CommandLine, AnUnknownOptionIsAnError) {
  auto p = parse({"serve", "-c", "x.yaml", "--verbose"});
  EXPECT_FALSE(p.ok);
  EXPECT_NE(p.errors.find("unknown option '--verbose'"), std::string::npos) << p.errors;
}

TEST(CommandLine, ServeWithoutAConfigIsAnError) {
  auto p = parse({"serve"});
  EXPECT_FALSE(p.ok);
  EXPECT_NE(p.errors.find("-c FILE is required"), std::string::npos) << p.errors;
}

}  // namespace
}  // namespace geosteer::app
