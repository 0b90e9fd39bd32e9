// libFuzzer target for the query path: any bytes in, and the responder must neither
// crash nor write a response that an independent parser (ldns) rejects.
#include <cstdint>

#include "tests/fuzz/fuzz_zone.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  geosteer::fuzz::respond_and_check({data, size});
  return 0;
}
