#include "app/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "common/log.h"

namespace geosteer::app {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr size_t kMaxCommand = 4096;
constexpr std::chrono::seconds kCommandTimeout{5};

// True when a server answers at `path`: a socket file nobody listens on is a
// leftover of a server that died, and may be replaced.
bool someone_listens(const std::string& path) {
  asio::io_context io;
  local::socket probe(io);
  boost::system::error_code ec;
  probe.connect(local::endpoint(path), ec);
  return !ec;
}

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace

// One client: its command line in, one reply out.
class ControlSocket::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket socket, Handler& handler)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), handler_(handler),
        input_(kMaxCommand) {}

  // The command is read before the peer is judged: closing with the client's words
  // unread would reset the connection and lose the answer that says why.
  void start() {
    timer_.expires_after(kCommandTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->socket_.close();
    });
    asio::async_read_until(socket_, input_, '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                             self->on_command(ec);
                           });
  }

 private:
  bool peer_allowed() {
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
      log::warning(std::string("control socket: cannot read the peer's credentials: ") +
                   std::strerror(errno));
      return false;
    }
    if (peer.uid == 0 || peer.uid == ::geteuid()) return true;
    log::warning("control socket: refused uid " + std::to_string(peer.uid) + " (pid " +
                 std::to_string(peer.pid) + ")");
    return false;
  }

  void on_command(const boost::system::error_code& ec) {
    timer_.cancel();
    if (ec) {
      if (ec == asio::error::not_found) finish(false, "command longer than 4096 bytes\n");
      return;  // closed, or timed out: nobody to answer
    }
    if (!peer_allowed()) return finish(false, "permission denied: only root and the server's user\n");
    std::string line;
    std::istream in(&input_);
    std::getline(in, line);
    auto words = words_of(line);
    if (words.empty()) return finish(false, "empty command\n");
    log::info("control: " + line);
    handler_(words, [self = shared_from_this()](bool ok, const std::string& text) {
      self->finish(ok, text);
    });
  }

  void finish(bool ok, const std::string& text) {
    reply_ = std::string(ok ? "ok\n" : "error\n") + text;
    asio::async_write(socket_, asio::buffer(reply_),
                      [self = shared_from_this()](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(local::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                      });
  }

  local::socket socket_;
  asio::steady_timer timer_;
  Handler& handler_;
  asio::streambuf input_;
  std::string reply_;
};

ControlSocket::ControlSocket(asio::io_context& io, Handler handler)
    : io_(io), handler_(std::move(handler)), acceptor_(io) {}

ControlSocket::~ControlSocket() { close(); }

void ControlSocket::open(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::system_error(ENAMETOOLONG, std::generic_category(),
                            "control socket " + path + ": longer than the " +
                                std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                " bytes a socket address holds");
  }
  std::error_code fs_error;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, fs_error);
  if (fs_error) {
    throw std::system_error(fs_error, "control socket: cannot create " + parent.string());
  }
  if (std::filesystem::exists(path, fs_error)) {
    if (someone_listens(path)) {
      throw std::system_error(EADDRINUSE, std::generic_category(),
                              "control socket " + path + ": another server answers there");
    }
    std::filesystem::remove(path, fs_error);  // a leftover of a server that is gone
  }
  // 0660 from the start: no moment in which others could connect.
  mode_t old_mask = ::umask(0117);
  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  if (!ec) acceptor_.bind(local::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    throw std::system_error(ec.value(), std::generic_category(), "control socket " + path);
  }
  path_ = path;
  accept();
}

void ControlSocket::close() {
  if (!acceptor_.is_open()) return;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  std::error_code fs_ignored;
  std::filesystem::remove(path_, fs_ignored);
}

void ControlSocket::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_)->start();
    accept();
  });
}

}  // namespace geosteer::app
