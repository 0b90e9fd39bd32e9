// The open files limit (RLIMIT_NOFILE). Every TCP connection takes a descriptor,
// and the usual soft limit (1024) is far below what a server with hundreds of
// connections per thread needs, while the hard limit is usually much higher.
#pragma once

#include <cstdint>

namespace geosteer {

struct FdLimit {
  uint64_t soft = 0;
  uint64_t hard = 0;
};

FdLimit fd_limit();

// Raises the soft limit to the hard limit, or to `wanted` if that is lower, and
// returns the limit in force afterwards. Never lowers it.
FdLimit raise_fd_limit(uint64_t wanted = UINT64_MAX);

}  // namespace geosteer
