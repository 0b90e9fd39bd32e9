// libFuzzer target for what a mirror sends back to a probe: status lines, headers,
// chunked and sized bodies, redirects, trace files and narinfos. A fake mirror on
// loopback answers each request of one probe with the next piece of the input
// (pieces are separated by "|||\n") and closes the connection; the first byte picks
// the freshness method, so liveness, trace, upstream and canary parsing are all
// reached. Every probe must end with a result whose reason is set when it failed,
// never a crash or a hang past its timeout.
//
// Redirects can name any host: run this target in a network namespace of its own
// (tools/fuzz.sh does, with unshare), so that a resolved name never leaves loopback.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/redirect_error.hpp>

#include "common/asio.h"
#include "healthcheck/probe.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

std::vector<std::string> split_pieces(std::string_view input) {
  static constexpr std::string_view kSeparator = "|||\n";
  std::vector<std::string> pieces;
  for (size_t at = 0;;) {
    size_t next = input.find(kSeparator, at);
    pieces.emplace_back(input.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos || pieces.size() == 8) return pieces;
    at = next + kSeparator.size();
  }
}

// Answers the i-th request it receives with pieces[i], then closes that connection.
asio::awaitable<void> fake_mirror(tcp::acceptor& acceptor, std::vector<std::string> pieces) {
  for (size_t i = 0;; ++i) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // cancelled: the probe is over
    std::string request;
    co_await asio::async_read_until(socket, asio::dynamic_buffer(request), "\r\n\r\n",
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && i < pieces.size()) {
      co_await asio::async_write(socket, asio::buffer(pieces[i]),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }
}

geosteer::healthcheck::FreshnessMethod method_of(uint8_t selector) {
  using geosteer::healthcheck::FreshnessMethod;
  switch (selector % 4) {
    case 1: return FreshnessMethod::Trace;
    case 2: return FreshnessMethod::Upstream;
    case 3: return FreshnessMethod::Canary;
    default: return FreshnessMethod::None;
  }
}

struct FakeMirror {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string base = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace geosteer::healthcheck;
  if (size == 0 || size > 64 * 1024) return 0;
  static FakeMirror mirror;

  Target target;
  target.mirror_id = "fuzz";
  target.url = mirror.base;
  target.address = geosteer::IpAddress::v4({127, 0, 0, 1});
  target.settings.timeout = std::chrono::milliseconds(100);  // loopback: plenty, and a hang costs little
  target.settings.max_redirects = 2;
  target.settings.freshness.method = method_of(data[0]);
  target.settings.freshness.upstream = mirror.base + "upstream/";
  target.settings.freshness.canary_list = data[0] & 4 ? "canaries.txt" : "";
  if (target.settings.freshness.canary_list.empty()) target.settings.freshness.canaries = {"a.narinfo"};

  auto pieces = split_pieces({reinterpret_cast<const char*>(data) + 1, size - 1});
  asio::co_spawn(mirror.io, fake_mirror(mirror.acceptor, std::move(pieces)), asio::detached);
  std::optional<ProbeResult> result;
  // A prober of its own per input: upstream answers it caches must not leak into the next.
  Prober prober(mirror.io);
  prober.probe(target, [&](ProbeResult r) {
    result = std::move(r);
    mirror.acceptor.cancel();
  });
  mirror.io.run();
  mirror.io.restart();
  if (!result) std::abort();  // the probe never finished
  if (result->outcome != Outcome::Ok && result->reason.empty()) std::abort();
  return 0;
}
