#include <cstdint>
#include <string_view>

#include "core/toml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseToml(text, "fuzz");
  return 0;
}
