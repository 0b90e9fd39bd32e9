// What an operator set at run time and the server must not forget: the mirrors
// drained with `geosteer ctl drain`. Kept in STATE_DIR/admin_state, as gdnsd keeps
// its admin_state, so a drain survives reloads and restarts until `undrain`.
//
// The file is one line per drained mirror, "drain ID", and "withdrawn" when the node
// is out of anycast by hand, with # comments; it is
// rewritten whole and renamed into place, so a crash never leaves half of it.
#pragma once

#include <set>
#include <string>

namespace geosteer::app {

class AdminState {
 public:
  explicit AdminState(std::string state_dir);

  // Reads the file; none is no drain. Throws std::runtime_error naming the file and
  // line of a line it cannot read, or the reason it cannot be read.
  void load();
  const std::set<std::string>& drained() const { return drained_; }
  // `geosteer ctl withdraw`: this node stays out of anycast until `announce`.
  bool withdrawn() const { return withdrawn_; }
  void set_withdrawn(bool withdrawn);
  // Adds or removes a drain and writes the file; on failure throws
  // std::runtime_error and changes nothing.
  void set_drained(const std::string& mirror, bool drained);
  std::string path() const { return state_dir_ + "/admin_state"; }

 private:
  void save(const std::set<std::string>& drained, bool withdrawn) const;

  std::string state_dir_;
  std::set<std::string> drained_;
  bool withdrawn_ = false;
};

}  // namespace geosteer::app
