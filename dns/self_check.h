// The server asking itself: one CHAOS TXT id.server question over UDP to each of
// its own listeners, answered or not within a timeout. An answer proves what a
// client needs: the socket is open, a query thread reads it, the responder answers
// and the reply gets out. systemd's watchdog is fed only while every listener
// answers, so a wedged query thread gets the service restarted.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.h"
#include "dns/server.h"

namespace geosteer::dns {

class SelfCheck {
 public:
  // nullopt when every listener answered; else which did not, and why.
  using Done = std::function<void(std::optional<std::string> failure)>;

  // `listeners` as bound (Server::bound_udp()); a wildcard address is asked on the
  // loopback address of its family.
  SelfCheck(boost::asio::io_context& io, std::vector<Endpoint> listeners,
            std::chrono::milliseconds timeout);

  // One round: asks every listener at once; `done` runs on the io_context once all
  // answered or the timeout passed. A round still running when the SelfCheck is
  // destroyed ends without calling `done`.
  void run_once(Done done);

  ~SelfCheck();

 private:
  struct Round;
  boost::asio::io_context& io_;
  std::vector<Endpoint> listeners_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<Round> round_;
  uint16_t next_id_;
};

}  // namespace geosteer::dns
