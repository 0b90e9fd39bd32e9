// A plain POSIX DNS-over-TCP client for the server tests: it can send half a
// message, several at once, or nothing at all, and it allocates nothing once
// connected (the allocation test reads the server's queries through it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>

namespace geosteer::dns::test {

class TcpClient {
 public:
  // A receive buffer size (before connecting) makes a client that reads slowly
  // fill up quickly: the kernel then holds little on its behalf.
  explicit TcpClient(uint16_t port, bool ipv6 = false, int receive_buffer = 0) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    int result;
    if (ipv6) {
      sockaddr_in6 address{};
      address.sin6_family = AF_INET6;
      address.sin6_port = htons(port);
      address.sin6_addr = in6addr_loopback;
      result = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    } else {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(port);
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      result = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
    if (result != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
    // Each send leaves at once: a test that splits a message means the split.
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TcpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool send_bytes(std::span<const uint8_t> bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
    return true;
  }

  // The message with its two-octet length in front (RFC 1035 section 4.2.2).
  bool send_message(std::span<const uint8_t> message) {
    uint8_t length[2] = {static_cast<uint8_t>(message.size() >> 8),
                         static_cast<uint8_t>(message.size() & 0xFF)};
    return send_bytes(length) && send_bytes(message);
  }

  // Reads one length-prefixed message into `out`; its length, or 0 when the server
  // closed, the message does not fit, or `limit` passed.
  size_t read_message(std::span<uint8_t> out, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    uint8_t length[2];
    if (!read_exactly(length, deadline)) return 0;
    size_t size = static_cast<size_t>(length[0] << 8 | length[1]);
    if (size > out.size() || !read_exactly(out.first(size), deadline)) return 0;
    return size;
  }

  // True when the server closes the connection within `limit` (data it sends first
  // is discarded).
  bool closed_within(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    uint8_t sink[512];
    while (wait_readable(deadline)) {
      ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
      if (n <= 0) return true;
    }
    return false;
  }

  // True when the server resets the connection within `limit`, read or not: a
  // server closing with our queries unread in its buffer resets it.
  bool reset_within(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLRDHUP, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
    return (p.revents & (POLLERR | POLLHUP)) != 0;
  }

  int fd() const { return fd_; }

 private:
  bool wait_readable(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }

  bool read_exactly(std::span<uint8_t> out, std::chrono::steady_clock::time_point deadline) {
    while (!out.empty()) {
      if (!wait_readable(deadline)) return false;
      ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
      if (n <= 0) return false;
      out = out.subspan(static_cast<size_t>(n));
    }
    return true;
  }

  int fd_ = -1;
};

}  // namespace geosteer::dns::test
