// libFuzzer target for the YAML configuration loader: any text gives a Config or
// ConfigErrors whose every error names a position in the file, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "zones/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;  // deep YAML nesting costs time, not coverage
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    geosteer::zones::parse_config_text(text, "fuzz.yaml");
  } catch (const geosteer::zones::ConfigErrors& errors) {
    if (errors.errors().empty()) std::abort();
    for (const auto& error : errors.errors()) {
      if (error.pos.file != "fuzz.yaml" || error.message.empty()) std::abort();
    }
  }
  return 0;
}
