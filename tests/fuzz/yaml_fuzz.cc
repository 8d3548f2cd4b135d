// The YAML reader (libyaml into a tree with lines): environment.yml and compose files.
#include <cstdint>
#include <string_view>

#include "core/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseYaml(text, "fuzz.yml");
  return 0;
}
