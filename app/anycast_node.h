// This node in an anycast service: it announces the service prefixes (by enabling
// a BIRD protocol) only while it answers, and withdraws them (disabling it) when
//   - its self-check fails: a listener gave no answer to the server's own query
//     within a second;
//   - the operator says so (`geosteer ctl withdraw`, kept across restarts);
//   - the server cannot publish a new snapshot, so its answers no longer follow
//     the mirrors' health;
//   - it stops: first of all, before the drain, so routers move clients away
//     while this node still answers them.
// It is withdrawn at start until its listeners have answered. Every self-check
// round re-asserts the wanted state, so a BIRD that restarted is corrected within
// a round; what BIRD does while geosteer is dead is the BIRD configuration's
// business (deploy/bird/: the protocol starts `disabled`).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "anycast/bird.h"
#include "common/asio.h"
#include "dns/self_check.h"
#include "zones/config.h"

namespace geosteer::app {

class AnycastNode {
 public:
  // `changed` hears every change of the announcement (for the metrics);
  // `publishing` says whether the server still publishes its snapshots.
  AnycastNode(boost::asio::io_context& io, const zones::AnycastConfig& config,
              std::vector<dns::Endpoint> listeners, bool withdrawn_by_operator,
              std::function<void(bool announced)> changed, std::function<bool()> publishing);
  void start();
  void set_withdrawn_by_operator(bool withdrawn);
  // Stopping: withdraw now and never announce again.
  void withdraw_for_stop();
  void stop();

  bool announced() const { return announced_; }
  std::string status() const;  // one line for `ctl status`

 private:
  void schedule();
  void judged(std::optional<std::string> failure);
  // Tells BIRD the wanted state; logs when the announcement changes.
  void apply();
  bool wanted() const {
    return !stopping_ && !withdrawn_by_operator_ && self_check_passes_ && publishing_();
  }
  std::string reason() const;
  std::string protocol_list() const;

  zones::AnycastConfig config_;
  anycast::BirdControl bird_;
  dns::SelfCheck self_check_;
  boost::asio::steady_timer timer_;
  std::function<void(bool)> changed_;
  std::function<bool()> publishing_;
  bool withdrawn_by_operator_;
  bool self_check_passes_ = false;
  unsigned passes_in_a_row_ = 0;
  std::string last_failure_ = "not checked yet";
  bool stopping_ = false;
  bool stopped_ = false;
  bool announced_ = false;
  std::optional<bool> told_bird_;  // what BIRD last confirmed
  std::string bird_error_;
};

}  // namespace geosteer::app
