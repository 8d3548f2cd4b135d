// data/bench-goals.toml: what fraction of its limit a healthy machine reaches, per benchmark
// and case ("gemm"/"bf16", "memory"/"hbm3", "pcie"/"pinned", ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dlrig::bench {

struct Goal {
  std::string benchmark;
  std::string case_name;
  std::string limit;  ///< which limit the ratio is taken against
  std::optional<double> good;
  std::optional<double> problem;
  bool tentative = false;
};

class Goals {
 public:
  static Result<Goals> Parse(std::string_view text);
  /// data/bench-goals.toml through DataFileText (so --kb overrides it), parsed once.
  static const Result<Goals>& BuiltIn();
  const Goal* Find(std::string_view benchmark, std::string_view case_name) const;

 private:
  std::vector<Goal> goals_;
};

/// The goal for a case, or an empty Goal when there is none (the figure then gets no verdict).
Goal GoalFor(std::string_view benchmark, std::string_view case_name);

}  // namespace dlrig::bench
