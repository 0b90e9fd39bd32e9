// Running as an unprivileged user after binding as root: the usual daemon sequence
// (supplementary groups, then group, then user), and a check that root cannot be
// regained, so a mistake here is an error and never a server that silently stays
// root.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace geosteer {

struct UserIds {
  uid_t uid;
  gid_t gid;
};

std::optional<UserIds> lookup_user(const std::string& name);

// Becomes `name` with its groups. Throws std::system_error naming the step that
// failed. Root only.
void drop_privileges(const std::string& name);

}  // namespace geosteer
