#include <cstdint>
#include <string_view>

#include "core/toml.h"

// With assertions on (the fuzz preset has no NDEBUG), a toml++ 3.3.0 consistency check that
// hostile input breaks throws TomlCheckFailed, which ParseToml returns as an error: that is
// the behaviour under test, not a finding. The fuzzer found three such inputs at once:
// `[[[` and `a = [}` (now refused by TomlInputProblem with their line) and a date-like value
// followed by whitespace (`a=1525-52-1m 5,`: parse_value's type detection), which toml++
// itself reports as an error when the check is compiled out (release, GCC).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseToml(text, "fuzz");
  return 0;
}
