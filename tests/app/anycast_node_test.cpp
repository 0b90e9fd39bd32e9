// When a node announces its anycast prefixes: only after its listeners answered
// three rounds, never while its snapshots cannot be published, and not once it
// stops. BIRD is played by a socket that records every command.
#include "app/anycast_node.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/dns/server_fixture.h"

namespace geosteer::app {
namespace {

using std::chrono::milliseconds;

// Answers birdc's protocol: a greeting, then one reply per command line.
class FakeBird {
 public:
  FakeBird() : path_("/tmp/gs-fakebird-" + std::to_string(::getpid()) + ".ctl") {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeBird() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  std::string last() {
    auto all = commands();
    return all.empty() ? "" : all.back();
  }

 private:
  void serve() {
    for (;;) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      const char greeting[] = "0001 BIRD 2.0.12 ready.\n";
      ::send(client, greeting, sizeof greeting - 1, MSG_NOSIGNAL);
      std::string line;
      char c;
      while (::recv(client, &c, 1, 0) == 1 && c != '\n') line += c;
      {
        std::lock_guard lock(mutex_);
        commands_.push_back(line);
      }
      std::string reply = line.rfind("enable", 0) == 0 ? "0011 p: enabled\n" : "0009 p: disabled\n";
      ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  std::vector<std::string> commands_;
  std::thread thread_;
};

class AnycastNodeTest : public ::testing::Test {
 protected:
  FakeBird bird;
  dns::test::RunningServer server{dns::test::loopback_options()};
  boost::asio::io_context io;
  std::atomic<bool> publishing{true};
  std::vector<bool> changes;
  std::optional<AnycastNode> node;

  void SetUp() override {
    zones::AnycastConfig config;
    config.enabled = true;
    config.prefixes = {*IpPrefix::parse("198.18.0.53/32")};
    config.bird_socket = bird.path();
    config.protocols = {"geosteer_anycast"};
    config.check_interval = milliseconds(50);
    node.emplace(io, config, std::vector<dns::Endpoint>{{IpAddress::v4({127, 0, 0, 1}), server.port()}},
                 false, [this](bool announced) { changes.push_back(announced); },
                 [this] { return publishing.load(); });
  }
  void run_for(milliseconds time) {
    io.restart();
    io.run_for(time);
  }
  // Runs the node until `done` holds; false after 5 s (a loaded machine, sanitizers).
  template <typename Done>
  bool run_until(Done done) {
    for (int i = 0; i < 500 && !done(); ++i) run_for(milliseconds(10));
    return done();
  }
};

TEST_F(AnycastNodeTest, IsWithdrawnAtStartAndAnnouncedAfterThreeGoodRounds) {
  node->start();
  run_for(milliseconds(10));
  EXPECT_EQ(bird.commands().front(), "disable geosteer_anycast");
  EXPECT_FALSE(node->announced());
  EXPECT_TRUE(run_until([&] { return node->announced(); }));
  EXPECT_EQ(bird.last(), "enable geosteer_anycast");
  EXPECT_EQ(changes, (std::vector<bool>{true}));
}

TEST_F(AnycastNodeTest, EveryRoundTellsBirdAgainSoARestartedBirdIsCorrected) {
  node->start();
  EXPECT_TRUE(run_until([&] { return bird.commands().size() >= 6; }))
      << "only " << bird.commands().size() << " commands to BIRD";
}

TEST_F(AnycastNodeTest, WithdrawsWhileSnapshotsCannotBePublished) {
  node->start();
  ASSERT_TRUE(run_until([&] { return node->announced(); }));
  publishing = false;
  EXPECT_TRUE(run_until([&] { return !node->announced(); }));
  EXPECT_EQ(bird.last(), "disable geosteer_anycast");
  EXPECT_NE(node->status().find("cannot publish a new snapshot"), std::string::npos) << node->status();
  publishing = true;
  EXPECT_TRUE(run_until([&] { return node->announced(); }));
}

TEST_F(AnycastNodeTest, WithdrawsAtOnceWhenStoppingAndStaysWithdrawn) {
  node->start();
  ASSERT_TRUE(run_until([&] { return node->announced(); }));
  node->withdraw_for_stop();
  EXPECT_FALSE(node->announced());
  EXPECT_EQ(bird.last(), "disable geosteer_anycast");
  run_for(milliseconds(200));
  EXPECT_EQ(bird.last(), "disable geosteer_anycast");
}

TEST_F(AnycastNodeTest, TheOperatorsWithdrawWinsOverAPassingSelfCheck) {
  node->start();
  ASSERT_TRUE(run_until([&] { return node->announced(); }));
  node->set_withdrawn_by_operator(true);
  run_for(milliseconds(150));
  EXPECT_FALSE(node->announced());
  EXPECT_NE(node->status().find("withdrawn by geosteer ctl withdraw"), std::string::npos);
}

}  // namespace
}  // namespace geosteer::app
