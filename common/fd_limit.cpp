#include "common/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace geosteer {

FdLimit fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  return {static_cast<uint64_t>(limit.rlim_cur), static_cast<uint64_t>(limit.rlim_max)};
}

FdLimit raise_fd_limit(uint64_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  // An unlimited hard limit still stops at the kernel's nr_open (2^20 by default).
  constexpr uint64_t kKernelDefaultMax = 1u << 20;
  uint64_t hard = limit.rlim_max == RLIM_INFINITY ? kKernelDefaultMax : limit.rlim_max;
  auto target = static_cast<rlim_t>(std::min({hard, wanted, kKernelDefaultMax}));
  if (target > limit.rlim_cur) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return {static_cast<uint64_t>(limit.rlim_cur), static_cast<uint64_t>(limit.rlim_max)};
}

}  // namespace geosteer
