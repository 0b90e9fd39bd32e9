// A real mirror for the tests: Debian's nginx on a loopback address, serving a
// fake Guix substitute cache (nix-cache-info, a trace file, narinfo files) over
// HTTP and, given a certificate, HTTPS. One nginx process per mirror, so a test
// can stop and restart one mirror while the others keep serving.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace geosteer::testing {

struct NginxMirrorOptions {
  std::string address = "127.0.0.1";  // loopback address to listen on (127.0.0.0/8 or ::1)
  std::string cert_file, key_file;     // both set: HTTPS on https_port as well
  // Files of the cache, path -> content, relative to the root.
  std::map<std::string, std::string> files;
  uint16_t http_port = 0;  // 0: any free port
};

// The usual content of a healthy substitute cache; the trace file holds `sync_time`.
std::map<std::string, std::string> substitute_cache_files(int64_t sync_time);

class NginxMirror {
 public:
  explicit NginxMirror(NginxMirrorOptions options);
  ~NginxMirror();
  NginxMirror(const NginxMirror&) = delete;
  NginxMirror& operator=(const NginxMirror&) = delete;

  uint16_t http_port() const { return http_port_; }
  uint16_t https_port() const { return https_port_; }
  std::string http_url() const;   // "http://ADDRESS:PORT/", "http://[::1]:PORT/"
  const std::string& root() const { return root_; }

  void write_file(const std::string& path, const std::string& content);
  void start();  // on the same ports as before
  void stop();   // connections to its ports are refused afterwards
  bool running() const { return pid_ > 0; }

 private:
  void write_config();
  NginxMirrorOptions options_;
  std::string dir_, root_;
  uint16_t http_port_ = 0, https_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace geosteer::testing
