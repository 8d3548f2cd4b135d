// The kernel-log parsers: whole logs (dmesg, syslog, /dev/kmsg records) and single lines.
#include <cstdint>
#include <string_view>

#include "probe/kernel_log.h"
#include "probe/pci.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  dlrig::KernelLogFacts facts;
  dlrig::ParseKernelLogText(text, facts);
  (void)dlrig::ParseXidLine(text);
  (void)dlrig::KmsgRecordToLine(text);
  (void)dlrig::NormalizePciAddress(text);
  return 0;
}
