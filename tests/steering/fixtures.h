// Shared by the steering tests: paths of the generated MMDB fixtures and address
// parsing that fails the test instead of returning an optional.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/ip.h"

namespace geosteer::steering::testing {

inline std::string fixture(const std::string& name) {
  return std::string(GEOSTEER_FIXTURE_DIR) + "/" + name;
}

inline IpAddress ip(const std::string& text) {
  auto address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

inline IpPrefix prefix(const std::string& text) {
  auto parsed = IpPrefix::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(IpPrefix{});
}

}  // namespace geosteer::steering::testing
