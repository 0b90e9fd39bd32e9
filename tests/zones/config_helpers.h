// Shared by the configuration tests: the one error a configuration must produce.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "zones/config.h"

namespace geosteer::zones::testing {

// "test.yaml:L:C: error: ..." when parsing `yaml` fails with exactly one error; a
// test failure (and "") otherwise.
inline std::string only_error(const std::string& yaml) {
  try {
    parse_config_text(yaml, "test.yaml");
  } catch (const ConfigErrors& e) {
    if (e.errors().size() == 1) return e.errors()[0].str();
    std::string all;
    for (const auto& error : e.errors()) all += "\n  " + error.str();
    ADD_FAILURE() << "expected exactly one error, got" << all;
    return {};
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

}  // namespace geosteer::zones::testing
