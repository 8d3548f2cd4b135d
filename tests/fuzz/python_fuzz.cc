// The python probe's parsers of outside text: dist-info and conda-meta names, generated
// version files (torch/version.py, build_info.py) and wheel-layouts.toml.
#include <cstdint>
#include <string_view>

#include "probe/conda.h"
#include "probe/python.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseDistInfoName(text);
  (void)dlrig::ParseCondaMetaName(text);
  (void)dlrig::FindPythonAssignment(text, "cuda");
  (void)dlrig::FindDictString(text, "cuda_version");
  (void)dlrig::ParseWheelLayouts(text);
  return 0;
}
