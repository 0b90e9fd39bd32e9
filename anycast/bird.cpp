#include "anycast/bird.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace geosteer::anycast {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// A line that ends a reply: "DDDD text" (a dash after the code continues it).
bool final_line(const std::string& line) {
  return line.size() >= 5 && std::isdigit(static_cast<unsigned char>(line[0])) && line[4] == ' ';
}

// Reads until a final line (or the greeting's one line); false on timeout or close.
bool read_reply(int fd, std::chrono::steady_clock::time_point deadline, std::string& out) {
  std::string pending;
  char buffer[1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return false;
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      out += line + "\n";
      if (final_line(line)) return true;
    }
  }
}

}  // namespace

BirdReply judge_bird_reply(const std::string& reply) {
  std::istringstream lines(reply);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (final_line(line)) last = line;
  }
  BirdReply out;
  out.text = reply;
  while (!out.text.empty() && out.text.back() == '\n') out.text.pop_back();
  out.ok = !last.empty() && last[0] == '0';
  return out;
}

BirdReply BirdControl::command(const std::string& line) const {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  if (path_.size() >= sizeof(sockaddr_un::sun_path)) return {false, path_ + ": path too long"};
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return {false, errno_text("socket")};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return {false, errno_text(("connect to " + path_).c_str())};
  }
  std::string greeting;
  if (!read_reply(fd.get(), deadline, greeting)) return {false, "no greeting from BIRD at " + path_};
  std::string request = line + "\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return {false, errno_text("send")};
  }
  std::string reply;
  if (!read_reply(fd.get(), deadline, reply)) return {false, "no whole reply from BIRD to '" + line + "'"};
  return judge_bird_reply(reply);
}

BirdReply BirdControl::set_protocol(const std::string& protocol, bool enabled) const {
  return command((enabled ? "enable " : "disable ") + protocol);
}

}  // namespace geosteer::anycast
