#include "dns/self_check.h"

#include <array>
#include <random>

namespace geosteer::dns {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// id.server. CH TXT, RFC 4892: answered from the server's identity, no zone needed.
std::array<uint8_t, 27> chaos_id_query(uint16_t id) {
  return {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0, 0,  // ID, flags: a plain query
          0, 1, 0, 0, 0, 0, 0, 0,                                         // one question
          2, 'i', 'd', 6, 's', 'e', 'r', 'v', 'e', 'r', 0,                // id.server.
          0, 16, 0, 3};                                                   // TXT, CH
}

IpAddress asked_address(const IpAddress& listener) {
  if (!listener.is_unspecified()) return listener;
  return listener.family == Family::V4 ? IpAddress::v4({127, 0, 0, 1}) : *IpAddress::parse("::1");
}

}  // namespace

// Everything one round owns, kept alive by its pending operations.
struct SelfCheck::Round : std::enable_shared_from_this<Round> {
  struct Asked {
    Asked(asio::io_context& io, Endpoint e) : socket(io), endpoint(e) {}
    udp::socket socket;
    Endpoint endpoint;
    uint16_t id = 0;
    std::array<uint8_t, 27> query{};
    std::array<uint8_t, 512> reply{};
    bool answered = false;
  };

  Round(asio::io_context& io, Done d) : timer(io), done(std::move(d)) {}

  void start(asio::io_context& io, const std::vector<Endpoint>& listeners, uint16_t& next_id,
             std::chrono::milliseconds timeout) {
    for (const auto& listener : listeners) {
      auto& a = *asked.emplace_back(std::make_unique<Asked>(io, listener));
      a.id = next_id++;
      a.query = chaos_id_query(a.id);
      boost::system::error_code ec;
      udp::endpoint to(to_asio(asked_address(listener.address)), listener.port);
      a.socket.open(to.protocol(), ec);
      if (!ec) a.socket.connect(to, ec);  // replies from anyone else are not ours
      if (ec) {
        finish("udp " + to_string(listener) + ": " + ec.message());
        return;
      }
      a.socket.async_send(asio::buffer(a.query),
                          [self = shared_from_this()](const boost::system::error_code&, size_t) {});
      receive(a);
    }
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this(), timeout](const boost::system::error_code& ec) {
      if (ec) return;
      for (const auto& a : self->asked) {
        if (!a->answered) {
          self->finish("udp " + to_string(a->endpoint) + ": no answer within " +
                       std::to_string(timeout.count()) + " ms");
          return;
        }
      }
    });
  }

  void receive(Asked& a) {
    a.socket.async_receive(asio::buffer(a.reply), [self = shared_from_this(), &a](
                                                      const boost::system::error_code& ec, size_t n) {
      if (ec || self->finished) return;
      // Our ID with QR set; anything else (a late reply to an earlier round) is skipped.
      bool ours = n >= 12 && a.reply[0] == a.query[0] && a.reply[1] == a.query[1] &&
                  (a.reply[2] & 0x80) != 0;
      if (!ours) {
        self->receive(a);
        return;
      }
      a.answered = true;
      if (++self->answers == self->asked.size()) self->finish(std::nullopt);
    });
  }

  void finish(std::optional<std::string> failure) {
    if (finished) return;
    finished = true;
    timer.cancel();
    for (auto& a : asked) {
      boost::system::error_code ignored;
      a->socket.close(ignored);
    }
    if (done) done(std::move(failure));
  }

  void abandon() {
    done = nullptr;
    finish(std::nullopt);
  }

  asio::steady_timer timer;
  Done done;
  std::vector<std::unique_ptr<Asked>> asked;
  size_t answers = 0;
  bool finished = false;
};

SelfCheck::SelfCheck(asio::io_context& io, std::vector<Endpoint> listeners,
                     std::chrono::milliseconds timeout)
    : io_(io),
      listeners_(std::move(listeners)),
      timeout_(timeout),
      next_id_(static_cast<uint16_t>(std::random_device{}())) {}

SelfCheck::~SelfCheck() {
  if (round_) round_->abandon();
}

void SelfCheck::run_once(Done done) {
  if (round_) round_->abandon();
  round_ = std::make_shared<Round>(io_, std::move(done));
  if (listeners_.empty()) {
    round_->finish(std::nullopt);
    return;
  }
  round_->start(io_, listeners_, next_id_, timeout_);
}

}  // namespace geosteer::dns
