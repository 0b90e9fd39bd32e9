// A deliberately dumb HTTP client for the server tests: plain POSIX sockets, so that
// a test can send half a request, garbage, or nothing at all, and see exactly which
// bytes come back and when the server closes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace geosteer::testing {

class RawHttpClient {
 public:
  explicit RawHttpClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawHttpClient() { close(); }
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // False when the server already closed (reset) the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `complete(received)` holds, the server closes, or `limit` passes.
  template <typename Complete>
  void read_until(Complete complete, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!closed_ && !complete(received_)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed_ = true;  // end of stream or reset
      } else {
        received_.append(buffer, static_cast<size_t>(n));
      }
    }
  }

  // True when the server closed the connection within `limit`.
  bool closed_within(std::chrono::milliseconds limit) {
    read_until([](const std::string&) { return false; }, limit);
    return closed_;
  }

  struct Response {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string header(const std::string& name) const {
      auto found = headers.find(name);
      return found == headers.end() ? "" : found->second;
    }
  };

  // The next response on the connection; a HEAD response's body is not read (it has
  // none, whatever its Content-Length says). nullopt if none came within `limit`.
  std::optional<Response> read_response(bool head = false,
                                        std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    read_until([](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; },
               limit);
    size_t header_end = received_.find("\r\n\r\n");
    if (header_end == std::string::npos) return std::nullopt;
    Response response = parse_head(received_.substr(0, header_end));
    size_t length = head ? 0 : std::stoul("0" + response.header("content-length"));
    size_t total = header_end + 4 + length;
    read_until([total](const std::string& r) { return r.size() >= total; }, limit);
    if (received_.size() < total) return std::nullopt;
    response.body = received_.substr(header_end + 4, length);
    received_.erase(0, total);
    return response;
  }

  // Bytes received and not yet taken by read_response.
  const std::string& pending() const { return received_; }

 private:
  static Response parse_head(const std::string& head) {
    Response response;
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    size_t space = status_line.find(' ');
    if (space != std::string::npos) response.status = std::stoul(status_line.substr(space + 1, 3));
    while (line_end != std::string::npos) {
      size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      std::string line = head.substr(start, line_end - start);
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      response.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
    }
    return response;
  }

  int fd_ = -1;
  std::string received_;
  bool closed_ = false;
};

}  // namespace geosteer::testing
