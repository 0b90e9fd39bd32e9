// BIRD's control protocol: replies judged by their codes, and a real BIRD 2
// (started by the test on a socket of its own) enabling and disabling a protocol.
#include "anycast/bird.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace geosteer::anycast {
namespace {

using std::chrono::milliseconds;

TEST(BirdReply, ACodeStartingWithZeroIsDone) {
  EXPECT_TRUE(judge_bird_reply("0011 geosteer_anycast: enabled\n").ok);
  EXPECT_TRUE(judge_bird_reply("0010 geosteer_anycast: already enabled\n").ok);
}

TEST(BirdReply, RunTimeAndSyntaxErrorsAreNotDone) {
  EXPECT_FALSE(judge_bird_reply("8003 No protocols match\n").ok);
  EXPECT_FALSE(judge_bird_reply("9001 syntax error, unexpected CF_SYM_UNDEFINED\n").ok);
}

TEST(BirdReply, TheLastLineDecides) {
  EXPECT_TRUE(judge_bird_reply("1002-Name       Proto      Table\n"
                               "1002-static1    Static     master4\n"
                               "0000 \n").ok);
}

TEST(BirdReply, NoFinalLineIsNotDone) {
  EXPECT_FALSE(judge_bird_reply("1002-unfinished\n").ok);
}

TEST(BirdControlWithoutBird, NoSocketIsAnErrorSayingWhere) {
  BirdControl bird("/nonexistent/bird.ctl", milliseconds(500));
  BirdReply reply = bird.set_protocol("geosteer_anycast", true);
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.text.find("connect to /nonexistent/bird.ctl"), std::string::npos) << reply.text;
}

// A BIRD 2 with one static protocol, disabled, on a control socket of the test's.
class RealBird : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/gs-bird-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/bird.conf") << "router id 198.18.255.1;\n"
                                          "protocol device {}\n"
                                          "protocol static geosteer_anycast {\n"
                                          "  disabled;\n"
                                          "  ipv4;\n"
                                          "  route 198.18.0.53/32 blackhole;\n"
                                          "}\n";
    socket_ = dir_ + "/bird.ctl";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("bird", "bird", "-f", "-c", (dir_ + "/bird.conf").c_str(), "-s", socket_.c_str(),
               "-P", (dir_ + "/bird.pid").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !std::filesystem::exists(socket_); ++i) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    ASSERT_TRUE(std::filesystem::exists(socket_)) << "bird (Debian's bird2) did not start";
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  bool protocol_up() {
    BirdReply reply = BirdControl(socket_, milliseconds(2000)).command("show protocols geosteer_anycast");
    return reply.text.find(" up ") != std::string::npos;
  }

  std::string dir_, socket_;
  pid_t pid_ = -1;
};

TEST_F(RealBird, EnableStartsTheProtocolAndDisableStopsIt) {
  BirdControl bird(socket_, milliseconds(2000));
  ASSERT_FALSE(protocol_up());
  BirdReply enabled = bird.set_protocol("geosteer_anycast", true);
  EXPECT_TRUE(enabled.ok) << enabled.text;
  EXPECT_TRUE(protocol_up());
  BirdReply disabled = bird.set_protocol("geosteer_anycast", false);
  EXPECT_TRUE(disabled.ok) << disabled.text;
  EXPECT_FALSE(protocol_up());
}

TEST_F(RealBird, EnablingTwiceIsStillDone) {
  BirdControl bird(socket_, milliseconds(2000));
  ASSERT_TRUE(bird.set_protocol("geosteer_anycast", true).ok);
  BirdReply again = bird.set_protocol("geosteer_anycast", true);
  EXPECT_TRUE(again.ok) << again.text;
}

TEST_F(RealBird, AnUnknownProtocolIsAnError) {
  BirdReply reply = BirdControl(socket_, milliseconds(2000)).set_protocol("no_such_protocol", true);
  EXPECT_FALSE(reply.ok) << reply.text;
}

}  // namespace
}  // namespace geosteer::anycast
