// `geosteer ctl`: one command to a running server over its control socket.
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <ostream>
#include <string>

#include "app/commands.h"
#include "common/asio.h"

namespace geosteer::app {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr const char* kDefaultSocket = "/run/geosteer/control.sock";
// A reload compiles the steering map (seconds; much more under sanitizers).
constexpr int kReplyTimeoutSeconds = 300;

}  // namespace

int run_ctl(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  const std::string path = cl.control_socket.empty() ? kDefaultSocket : cl.control_socket;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    err << "geosteer ctl: " << path << " is longer than a socket address holds\n";
    return 2;
  }
  asio::io_context io;
  local::socket socket(io);
  boost::system::error_code ec;
  socket.connect(local::endpoint(path), ec);
  if (ec) {
    err << "geosteer ctl: cannot reach a server at " << path << ": " << ec.message()
        << " (is geosteer serve running? -s SOCKET names another socket)\n";
    return 2;
  }
  timeval timeout{kReplyTimeoutSeconds, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string command;
  for (const auto& word : cl.operands) command += (command.empty() ? "" : " ") + word;
  asio::write(socket, asio::buffer(command + "\n"), ec);
  std::string reply;
  std::array<char, 4096> chunk;
  for (;;) {
    size_t n = socket.read_some(asio::buffer(chunk), ec);
    reply.append(chunk.data(), n);
    if (ec) break;
  }
  if (ec != asio::error::eof) {
    err << "geosteer ctl: no whole answer from " << path << ": " << ec.message() << "\n";
    return 2;
  }
  size_t newline = reply.find('\n');
  std::string status = reply.substr(0, newline);
  std::string text = newline == std::string::npos ? "" : reply.substr(newline + 1);
  if (status == "ok") {
    out << text;
    return 0;
  }
  if (status == "error") {
    err << "geosteer ctl " << cl.operands[0] << ": " << text;
    return 1;
  }
  err << "geosteer ctl: the server at " << path << " answered nothing (it may be stopping)\n";
  return 2;
}

}  // namespace geosteer::app
