#include "bench/bench_goals.h"

#include <string>

#include "bench/goals.h"

namespace dlrig::bench {

Result<BenchGoal> LookupBenchGoal(std::string_view benchmark, std::string_view case_name) {
  const auto& goals = Goals::BuiltIn();
  if (!goals) return tl::unexpected(goals.error());
  const Goal* goal = goals->Find(benchmark, case_name);
  if (goal == nullptr)
    return Fail(ErrorKind::kNotFound, "bench-goals.toml has no goal for " + std::string(benchmark) +
                                          " " + std::string(case_name));
  return BenchGoal{.good = goal->good, .problem = goal->problem, .tentative = goal->tentative};
}

}  // namespace dlrig::bench
