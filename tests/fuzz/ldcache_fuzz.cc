#include <cstdint>
#include <string_view>

#include "probe/ldconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseLdSoCache(bytes);
  (void)dlrig::ParseLdconfigP(bytes);
  return 0;
}
