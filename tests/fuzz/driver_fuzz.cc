// Parsers of the kernel driver, user-space driver, toolkit, libraries and dpkg probes.
#include <cstdint>
#include <string_view>

#include "probe/dpkg.h"
#include "probe/driver_query.h"
#include "probe/kernel_driver.h"
#include "probe/libs.h"
#include "probe/toolkit.h"
#include "probe/user_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::ParseNvidiaProcVersion(text);
  (void)dlrig::ParseProcModules(text);
  (void)dlrig::ParseDevListing(text);
  dlrig::NouveauConfig nouveau;
  dlrig::ParseModprobeConf(text, "fuzz.conf", nouveau);
  (void)dlrig::ParseSecureBootVar(text);
  (void)dlrig::ParseGpuInformation("0000:00:00.0", text);
  (void)dlrig::ParseModeString(text);
  dlrig::ChildEnd end;
  end.timed_out = size % 2 == 0;
  (void)dlrig::ParseDriverQuery(text, dlrig::DriverQueryOptions{}, end);
  (void)dlrig::DriverVersionFromName(text);
  (void)dlrig::ParseDpkgStatus(text);
  (void)dlrig::ParseToolkitVersionJson(text);
  (void)dlrig::ParseToolkitVersionTxt(text);
  (void)dlrig::ParseCudaHeaderVersion(text);
  for (const char* lib : {"cudnn", "nccl", "cublas", "tensorrt"})
    (void)dlrig::ParseLibraryHeaderVersion(lib, text);
  return 0;
}
