// Limits shared by the configuration (which refuses what exceeds them) and the
// query path (which relies on them for its fixed-size buffers).
#pragma once

#include <cstddef>

namespace geosteer {

// Mirrors one service may list: steering ranks them in a fixed array per query.
constexpr size_t kMaxServiceMirrors = 256;

}  // namespace geosteer
