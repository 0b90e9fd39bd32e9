// The server side of `geosteer ctl`: a Unix stream socket (mode 0660) on the control
// thread. A client sends one command line; the server answers "ok" or "error" on
// the first line, then text, and closes. Only root and the user the server runs as
// may talk to it (SO_PEERCRED), whatever the file's mode lets connect.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.h"

namespace geosteer::app {

class ControlSocket {
 public:
  // Called once per command, on the control thread; `reply` may be called later
  // (a reload answers when it is done), exactly once.
  using Reply = std::function<void(bool ok, const std::string& text)>;
  using Handler = std::function<void(const std::vector<std::string>& words, Reply reply)>;

  ControlSocket(boost::asio::io_context& io, Handler handler);
  ~ControlSocket();

  // Listens at `path`, creating its directory. A socket file left by a server that
  // is gone is replaced; one a live server answers on is not: std::system_error.
  void open(const std::string& path);
  // Stops listening and removes the socket file.
  void close();

 private:
  class Session;
  void accept();

  boost::asio::io_context& io_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
};

}  // namespace geosteer::app
