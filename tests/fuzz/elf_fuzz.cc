#include <cstdint>
#include <string_view>

#include "probe/elf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseElfBytes(bytes);
  return 0;
}
