// The subcommands of the geosteer executable. Each returns the process exit status.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace geosteer::app {

struct LoadedConfig;

struct CommandLine {
  std::string command;                // serve, check, locate, probe, version, help
  std::string config_path;            // -c / --config
  std::vector<std::string> operands;  // locate ADDRESS
  std::string service;                // locate --service NAME
  std::string mirror;                 // probe --mirror ID
  std::string log_level = "info";     // --log-level
  bool help = false;                  // COMMAND --help: that command's usage, nothing run
  std::string control_socket;         // ctl -s; serve --control-socket
  bool control_socket_given = false;  // serve --control-socket (may be "": none)
  std::string state_dir;              // serve --state-dir
};

// Parses argv; on a usage error writes it to `err` and returns false.
bool parse_command_line(int argc, char** argv, CommandLine& out, std::ostream& err);
void print_usage(std::ostream& out);
// One command's usage and options ("serve", "check", ...); the general usage for
// any other name.
void print_command_usage(const std::string& command, std::ostream& out);

// Loads the configuration for a command; on errors prints them all, one per line
// as file:line:column, and returns null.
std::shared_ptr<const LoadedConfig> load_or_report(const std::string& path, uint64_t generation,
                                                   std::ostream& err);

int run_check(const CommandLine& cl, std::ostream& out, std::ostream& err);
int run_locate(const CommandLine& cl, std::ostream& out, std::ostream& err);
int run_probe(const CommandLine& cl, std::ostream& out, std::ostream& err);
int run_serve(const CommandLine& cl, std::ostream& err);
int run_ctl(const CommandLine& cl, std::ostream& out, std::ostream& err);

}  // namespace geosteer::app
