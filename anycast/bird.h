// BIRD 2's control socket, as birdc speaks it: a greeting, one command line, and a
// reply of numbered lines ("0011 geosteer_anycast: enabled"). geosteer only enables
// and disables one protocol (a static protocol holding the service prefixes), so
// the routes BIRD announces follow whether this node can answer.
#pragma once

#include <chrono>
#include <string>

namespace geosteer::anycast {

struct BirdReply {
  bool ok = false;    // BIRD's reply code says done (0xxx), not an error (8xxx, 9xxx)
  std::string text;   // BIRD's reply, or why there is none ("connect: ...")
};

class BirdControl {
 public:
  BirdControl(std::string socket_path, std::chrono::milliseconds timeout)
      : path_(std::move(socket_path)), timeout_(timeout) {}

  // "enable PROTOCOL" or "disable PROTOCOL". Already in that state counts as done.
  BirdReply set_protocol(const std::string& protocol, bool enabled) const;
  // Any command line; the whole reply. Blocks for at most the timeout.
  BirdReply command(const std::string& line) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::milliseconds timeout_;
};

// The outcome of a whole reply: its last line's code decides (BIRD's codes: 0xxx
// done, 1xxx table rows, 2xxx/3xxx help text, 8xxx run-time errors, 9xxx syntax).
BirdReply judge_bird_reply(const std::string& reply);

}  // namespace geosteer::anycast
