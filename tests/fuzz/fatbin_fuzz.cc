#include <cstdint>
#include <string_view>

#include "probe/fatbin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The input as a whole ELF image and as the bytes of one fatbin section.
  if (auto scan = dlrig::ScanFatbinBytes(bytes))
    (void)dlrig::PickKernelImage(*scan, {9, 0});
  dlrig::FatbinScan section;
  (void)dlrig::ScanFatbinSectionBytes(bytes, section);
  (void)dlrig::PickKernelImage(section, {8, 6});
  return 0;
}
