#include <cstdint>
#include <string_view>

#include "core/environment.h"
#include "core/version.h"
#include "probe/host.h"
#include "probe/pci.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseOsRelease(text);
  (void)dlrig::ParseCpuInfo(text);
  (void)dlrig::ParseMemInfo(text);
  (void)dlrig::ParseMountInfo(text);
  (void)dlrig::TmpfsSizeOption(text);
  (void)dlrig::ParsePciIdsForVendor(text, 0x10de);
  (void)dlrig::ParseLinkSpeed(text);
  (void)dlrig::Environment::Parse(text);
  (void)dlrig::Version::Parse(text);
  return 0;
}
