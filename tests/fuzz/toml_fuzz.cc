#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/toml.h"

// ParseToml turns a failed toml++ consistency check into an error so a debug dlrig survives it;
// here it is a finding: TomlInputProblem should have refused that input before toml++ saw it
// (a release build has the check compiled out and goes on in a state toml++ never expected).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = dlrig::ParseToml(text, "fuzz");
  if (!parsed && parsed.error().message.find("toml++ cannot parse this text") != std::string::npos)
    std::abort();
  return 0;
}
