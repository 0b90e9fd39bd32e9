#include "app/anycast_node.h"

#include "common/log.h"

namespace geosteer::app {
namespace {

using std::chrono::milliseconds;

// A node that failed comes back only after this many good rounds in a row, so a
// listener that answers every other time does not make routers flap.
constexpr unsigned kPassesToAnnounce = 3;
constexpr milliseconds kSelfCheckTimeout{1000};
constexpr milliseconds kBirdTimeout{2000};

std::string prefix_list(const std::vector<IpPrefix>& prefixes) {
  std::string out;
  for (const auto& p : prefixes) out += (out.empty() ? "" : " ") + p.to_string();
  return out;
}

}  // namespace

AnycastNode::AnycastNode(boost::asio::io_context& io, const zones::AnycastConfig& config,
                         std::vector<dns::Endpoint> listeners, bool withdrawn_by_operator,
                         std::function<void(bool)> changed, std::function<bool()> publishing)
    : config_(config),
      bird_(config.bird_socket, kBirdTimeout),
      self_check_(io, std::move(listeners), std::min(kSelfCheckTimeout, config.check_interval)),
      timer_(io),
      changed_(std::move(changed)),
      publishing_(std::move(publishing)),
      withdrawn_by_operator_(withdrawn_by_operator) {}

void AnycastNode::start() {
  log::info("anycast: " + prefix_list(config_.prefixes) + " through BIRD protocol " + protocol_list() +
            " at " + config_.bird_socket + (withdrawn_by_operator_ ? " (withdrawn by ctl)" : ""));
  apply();  // withdrawn until the listeners have answered
  self_check_.run_once([this](std::optional<std::string> failure) { judged(std::move(failure)); });
}

void AnycastNode::set_withdrawn_by_operator(bool withdrawn) {
  withdrawn_by_operator_ = withdrawn;
  apply();
}

void AnycastNode::withdraw_for_stop() {
  if (stopping_) return;
  stopping_ = true;
  apply();
}

void AnycastNode::stop() {
  withdraw_for_stop();
  stopped_ = true;
  timer_.cancel();
}

void AnycastNode::schedule() {
  timer_.expires_after(config_.check_interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    self_check_.run_once([this](std::optional<std::string> failure) { judged(std::move(failure)); });
  });
}

void AnycastNode::judged(std::optional<std::string> failure) {
  if (stopped_) return;
  if (failure) {
    if (self_check_passes_ || last_failure_ != *failure) {
      log::warning("anycast: self-check failed: " + *failure);
    }
    self_check_passes_ = false;
    passes_in_a_row_ = 0;
    last_failure_ = *failure;
  } else if (!self_check_passes_ && ++passes_in_a_row_ >= kPassesToAnnounce) {
    self_check_passes_ = true;
  }
  apply();
  schedule();
}

std::string AnycastNode::protocol_list() const {
  std::string out;
  for (const auto& p : config_.protocols) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string AnycastNode::reason() const {
  if (stopping_) return "stopping";
  if (withdrawn_by_operator_) return "withdrawn by geosteer ctl withdraw";
  if (!publishing_()) return "cannot publish a new snapshot";
  if (!self_check_passes_) {
    return passes_in_a_row_ > 0 ? "self-check passed " + std::to_string(passes_in_a_row_) + " of " +
                                      std::to_string(kPassesToAnnounce) + " rounds"
                                : "self-check: " + last_failure_;
  }
  return "every listener answers";
}

void AnycastNode::apply() {
  const bool want = wanted();
  anycast::BirdReply reply{true, ""};
  for (const auto& protocol : config_.protocols) {
    anycast::BirdReply one = bird_.set_protocol(protocol, want);
    if (!one.ok && reply.ok) reply = {false, protocol + ": " + one.text};
  }
  if (!reply.ok) {
    if (bird_error_ != reply.text) {
      log::error("anycast: BIRD did not " + std::string(want ? "enable " : "disable ") + reply.text);
    }
    bird_error_ = reply.text;
    // Unknown: a BIRD that cannot be told to withdraw may still announce.
    told_bird_.reset();
  } else {
    if (!bird_error_.empty()) log::info("anycast: BIRD answers again");
    bird_error_.clear();
    told_bird_ = want;
  }
  const bool now = told_bird_.value_or(false);
  if (now != announced_) {
    announced_ = now;
    log::info(std::string("anycast: ") + (now ? "announced " : "withdrew ") + prefix_list(config_.prefixes) +
              " (" + reason() + ")");
    if (changed_) changed_(now);
  }
}

std::string AnycastNode::status() const {
  std::string out = std::string(announced_ ? "announced " : "withdrawn ") + prefix_list(config_.prefixes) +
                    " (BIRD protocol " + protocol_list() + "; " + reason() + ")";
  if (!bird_error_.empty()) out += "; BIRD: " + bird_error_;
  return out;
}

}  // namespace geosteer::app
