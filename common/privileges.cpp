#include "common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace geosteer {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

std::optional<UserIds> lookup_user(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return UserIds{found->pw_uid, found->pw_gid};
}

void drop_privileges(const std::string& name) {
  auto ids = lookup_user(name);
  if (!ids) {
    errno = ENOENT;
    fail("no user '" + name + "'");
  }
  // Groups first: once the user id changes, they could no longer be set.
  if (::initgroups(name.c_str(), ids->gid) != 0) fail("initgroups(" + name + ")");
  if (::setgid(ids->gid) != 0) fail("setgid(" + std::to_string(ids->gid) + ")");
  if (::setuid(ids->uid) != 0) fail("setuid(" + std::to_string(ids->uid) + ")");
  if (ids->uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
    errno = EPERM;
    fail("root could be regained after becoming '" + name + "'");
  }
}

}  // namespace geosteer
