// Starts the real geosteer binary on loopback and queries it with real DNS clients
// (dig, kdig). Every test gets its own server on its own port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace geosteer::testing {

struct CommandResult {
  int status = -1;  // exit status, or -1 when it did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs a shell command, capturing stdout and stderr.
CommandResult run_command(const std::string& command);

// A port free for UDP and TCP on both 127.0.0.1 and ::1 at the moment of asking.
uint16_t free_port();

std::string fixture(const std::string& name);  // path of a generated MMDB fixture
std::string source_path(const std::string& relative);

// Writes `text` to a fresh file in a per-test temporary directory; returns its path.
std::string write_temp_file(const std::string& name, const std::string& text);

// The demo's own file (deploy/examples/guix.yaml) on the real DB-IP data, moved to
// the test's ports; the data must have been fetched (tools/fetch-geoip.sh).
std::string demo_config_on_dbip();
bool dbip_data_present();

// Replaces every "{{PORT}}", "{{METRICS_PORT}}" and "{{FIXTURES}}" in a config
// template. A metrics port of 0 asks geosteer for any free port.
std::string expand(std::string text, uint16_t port, uint16_t metrics_port = 0);

class GeosteerServer {
 public:
  // Writes the config, starts `geosteer serve -c` and waits until it answers.
  explicit GeosteerServer(const std::string& config_text);
  ~GeosteerServer();
  GeosteerServer(const GeosteerServer&) = delete;
  GeosteerServer& operator=(const GeosteerServer&) = delete;

  uint16_t port() const { return port_; }
  uint16_t metrics_port() const { return metrics_port_; }
  // GET http://127.0.0.1:METRICS_PORT{path} with curl: the body, or "" on failure.
  std::string http_get(const std::string& path) const;
  const std::string& config_path() const { return config_path_; }
  void rewrite_config(const std::string& config_text);
  void send_signal(int signal);
  std::string log() const;
  bool running();
  pid_t pid() const { return pid_; }
  // Sends SIGINT (a stop without drain) and waits: the exit status, or -1 when it had to be killed (or
  // died of a signal). The destructor does the same when this was not called.
  int stop(std::chrono::milliseconds patience = std::chrono::seconds(1));
  // Waits for the process to exit by itself (after a signal sent with send_signal):
  // its exit status, or -1 when it did not exit within `patience` (it is killed) or
  // died of a signal.
  int wait_exit(std::chrono::milliseconds patience);
  // `geosteer ctl -s <this server's control socket> ARGS`.
  CommandResult ctl(const std::string& args) const;
  const std::string& control_socket() const { return control_socket_; }
  const std::string& state_dir() const { return state_dir_; }
  // Stops the process at once and starts it again on the same files and ports.
  void restart();

  // `dig @ADDRESS -p PORT ARGS`; address 127.0.0.1 unless `at` is given.
  std::string dig(const std::string& args, const std::string& at = "127.0.0.1") const;
  std::string kdig(const std::string& args, const std::string& at = "127.0.0.1") const;
  // Sends raw bytes over UDP to 127.0.0.1 and returns the reply (empty on timeout).
  std::vector<uint8_t> udp_exchange(const std::vector<uint8_t>& query,
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) const;

 private:
  void start_process();
  int stop_process(std::chrono::milliseconds patience = std::chrono::seconds(1));
  bool wait_until_answering();
  uint16_t port_ = 0;
  uint16_t metrics_port_ = 0;
  std::string config_path_;
  std::string log_path_;
  std::string control_socket_;
  std::string state_dir_;
  pid_t pid_ = -1;
};

// Helpers over dig's default output.
std::string dig_status(const std::string& output);           // "NOERROR", "NXDOMAIN", ...
bool dig_has_flag(const std::string& output, const std::string& flag);  // "aa", "tc"
std::vector<std::string> dig_section(const std::string& output, const std::string& section);  // "ANSWER"
std::string dig_ecs(const std::string& output);               // "130.149.7.0/24/16" or ""
std::vector<std::string> short_lines(const std::string& output);
std::vector<std::string> fields(const std::string& line);  // split on white space
int line_of(const std::string& text, const std::string& needle);  // 1-based, 0 if absent

}  // namespace geosteer::testing
