// The goal ratios of data/bench-goals.toml, looked up by (benchmark, case). A thin face over
// bench/goals.h's table for callers that want an error when no goal is listed.
#pragma once

#include <optional>
#include <string_view>

#include "core/result.h"

namespace dlrig::bench {

struct BenchGoal {
  std::optional<double> good;
  std::optional<double> problem;
  bool tentative = false;
};

/// The goal of `benchmark` ("gemm") for `case_name` ("bf16") in the built-in table (--kb
/// overrides apply); kNotFound when the table lists none, or the table's own error.
Result<BenchGoal> LookupBenchGoal(std::string_view benchmark, std::string_view case_name);

}  // namespace dlrig::bench
