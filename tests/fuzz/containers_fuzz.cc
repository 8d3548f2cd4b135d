#include <cstdint>
#include <string_view>

#include "probe/containers.h"
#include "probe/shell.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseDaemonJson(text);
  (void)dlrig::ParseDockerInfo(text);
  (void)dlrig::ParseCdiSpec(text);
  (void)dlrig::ScanStartupFile("/f", text);
  (void)dlrig::ParseToolVersion(text);
  return 0;
}
