// The reader of `dlrig bench --json` files (bench compare FILE FILE): any bytes give a run or a
// clear error; a run read back writes out again without throwing.
#include <cstdint>
#include <string_view>

#include "bench/report_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto run = dlrig::bench::ParseBenchJson(text);
  if (run)
    (void)dlrig::bench::BenchJson(*run).dump(-1, ' ', false,
                                             dlrig::bench::ojson::error_handler_t::replace);
  return 0;
}
