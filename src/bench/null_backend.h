// A backend without a GPU: no memory is touched and every timed operation answers from a model
// of an H100 SXM running at fixed fractions of its limits, with a little deterministic noise.
// It lets CI run the harness and every benchmark's logic; its figures say "null" wherever shown.
#pragma once

#include <memory>
#include <string>

#include "bench/backend.h"

namespace dlrig::bench {

struct NullOptions {
  int devices = 2;
  /// After this many timed operations every operation fails as a lost GPU would (code 15
  /// territory: "GPU is lost"), to test what a run keeps when a GPU goes mid-run. 0 = never.
  int fail_after = 0;
  /// Burn and memtest find this many errors per step / pattern (a faulty GPU).
  long long errors = 0;
  /// "null" (modelled figures), or "host": no GPU at all, for benchmarks that need none
  /// (storage), whose figures are then real.
  std::string name = "null";
};

std::unique_ptr<Backend> MakeNullBackend(const NullOptions& options = {});

}  // namespace dlrig::bench
