#include "tests/support/nginx_mirror.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace geosteer::testing {
namespace fs = std::filesystem;

namespace {

bool is_ipv6(const std::string& address) { return address.find(':') != std::string::npos; }

// A socket address for `address`:`port`, IPv4 or IPv6.
socklen_t socket_address(const std::string& address, uint16_t port, sockaddr_storage& out) {
  out = {};
  if (is_ipv6(address)) {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(out);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    inet_pton(AF_INET6, address.c_str(), &sin6.sin6_addr);
    return sizeof sin6;
  }
  auto& sin = reinterpret_cast<sockaddr_in&>(out);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
  return sizeof sin;
}

// A TCP port free on `address` now; nginx binds it a moment later.
uint16_t free_tcp_port(const std::string& address) {
  sockaddr_storage ss;
  socklen_t length = socket_address(address, 0, ss);
  int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), length) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind " + address);
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length);
  close(fd);
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                                        : reinterpret_cast<sockaddr_in&>(ss).sin_port);
}

bool accepts_connections(const std::string& address, uint16_t port) {
  sockaddr_storage ss;
  socklen_t length = socket_address(address, port, ss);
  int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&ss), length) == 0;
  close(fd);
  return ok;
}

std::string host_part(const std::string& address) {
  return is_ipv6(address) ? "[" + address + "]" : address;
}

}  // namespace

std::map<std::string, std::string> substitute_cache_files(int64_t sync_time) {
  return {
      {"nix-cache-info", "StoreDir: /gnu/store\nWantMassQuery: 0\nPriority: 100\n"},
      {"trace/last-sync", std::to_string(sync_time) + "\n"},
      {"0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p.narinfo",
       "StorePath: /gnu/store/0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12.1\n"
       "URL: nar/lzip/0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12.1\n"
       "Compression: lzip\n"
       "NarHash: sha256:1ik8yi0fx9cbbsxyzgvbyghqxlq4b3pfxxzkxqj3dmvgq9zpsckv\n"
       "NarSize: 1234567\n"},
  };
}

NginxMirror::NginxMirror(NginxMirrorOptions options) : options_(std::move(options)) {
  char pattern[] = "/tmp/geosteer-nginx-XXXXXX";
  dir_ = mkdtemp(pattern);
  root_ = dir_ + "/root";
  fs::create_directories(root_);
  for (const auto& [path, content] : options_.files) write_file(path, content);
  http_port_ = options_.http_port ? options_.http_port : free_tcp_port(options_.address);
  if (!options_.cert_file.empty()) https_port_ = free_tcp_port(options_.address);
  write_config();
  start();
}

NginxMirror::~NginxMirror() {
  stop();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string NginxMirror::http_url() const {
  return "http://" + host_part(options_.address) + ":" + std::to_string(http_port_) + "/";
}

void NginxMirror::write_file(const std::string& path, const std::string& content) {
  fs::path file = fs::path(root_) / path;
  fs::create_directories(file.parent_path());
  std::ofstream(file) << content;
}

void NginxMirror::write_config() {
  std::ofstream conf(dir_ + "/nginx.conf");
  // One process in the foreground, every path inside the test's directory, so the
  // test owns its lifetime and no system nginx state is touched.
  conf << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << dir_ << "/nginx.pid;\n"
       << "error_log " << dir_ << "/error.log warn;\n"
       << "events { worker_connections 64; }\n"
       << "http {\n"
       << "  access_log " << dir_ << "/access.log;\n"
       << "  client_body_temp_path " << dir_ << "/body;\n"
       << "  proxy_temp_path " << dir_ << "/proxy;\n"
       << "  fastcgi_temp_path " << dir_ << "/fastcgi;\n"
       << "  uwsgi_temp_path " << dir_ << "/uwsgi;\n"
       << "  scgi_temp_path " << dir_ << "/scgi;\n"
       << "  default_type text/plain;\n"
       << "  server {\n"
       << "    listen " << host_part(options_.address) << ":" << http_port_ << ";\n";
  if (https_port_ != 0) {
    conf << "    listen " << host_part(options_.address) << ":" << https_port_ << " ssl;\n"
         << "    ssl_certificate " << options_.cert_file << ";\n"
         << "    ssl_certificate_key " << options_.key_file << ";\n";
  }
  conf << "    root " << root_ << ";\n"
       << "  }\n"
       << "}\n";
}

void NginxMirror::start() {
  if (pid_ > 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    std::string conf = dir_ + "/nginx.conf";
    std::string log = dir_ + "/startup.log";
    execl("/usr/sbin/nginx", "nginx", "-p", dir_.c_str(), "-e", log.c_str(), "-c", conf.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (accepts_connections(options_.address, http_port_)) return;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::ifstream startup(dir_ + "/startup.log");
  std::string text((std::istreambuf_iterator<char>(startup)), std::istreambuf_iterator<char>());
  pid_ = -1;
  throw std::runtime_error("nginx did not start: " + text);
}

void NginxMirror::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace geosteer::testing
