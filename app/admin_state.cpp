#include "app/admin_state.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace geosteer::app {

AdminState::AdminState(std::string state_dir) : state_dir_(std::move(state_dir)) {}

void AdminState::load() {
  std::ifstream in(path());
  if (!in) {
    if (errno == ENOENT) return;
    throw std::runtime_error(path() + ": " + std::strerror(errno));
  }
  std::set<std::string> drained;
  bool withdrawn = false;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line);
    std::string verb, mirror, extra;
    words >> verb;
    if (verb.empty() || verb[0] == '#') continue;
    words >> mirror >> extra;
    if (verb == "withdrawn" && mirror.empty()) {
      withdrawn = true;
      continue;
    }
    if (verb != "drain" || mirror.empty() || !extra.empty()) {
      throw std::runtime_error(path() + ":" + std::to_string(number) + ": expected 'drain MIRROR' or 'withdrawn', got '" +
                               line + "'");
    }
    drained.insert(mirror);
  }
  drained_ = std::move(drained);
  withdrawn_ = withdrawn;
}

void AdminState::set_drained(const std::string& mirror, bool drained) {
  std::set<std::string> next = drained_;
  if (drained) next.insert(mirror);
  else next.erase(mirror);
  save(next, withdrawn_);
  drained_ = std::move(next);
}

void AdminState::set_withdrawn(bool withdrawn) {
  save(drained_, withdrawn);
  withdrawn_ = withdrawn;
}

void AdminState::save(const std::set<std::string>& drained, bool withdrawn) const {
  std::error_code ec;
  std::filesystem::create_directories(state_dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + state_dir_ + ": " + ec.message());
  std::string temporary = path() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# Written by geosteer ctl drain/undrain: the mirrors out of the answers until undrained.\n";
    for (const auto& mirror : drained) out << "drain " << mirror << "\n";
    if (withdrawn) out << "withdrawn\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
  }
  if (std::rename(temporary.c_str(), path().c_str()) != 0) {
    int error = errno;
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot replace " + path() + ": " + std::strerror(error));
  }
}

}  // namespace geosteer::app
