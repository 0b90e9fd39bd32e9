// Boost.Asio, included the one way that builds with Debian 12's Boost 1.74 and
// GCC 12: Asio's awaitable.hpp uses std::exchange without including <utility>.
#pragma once

#include <utility>

#include <boost/asio.hpp>
