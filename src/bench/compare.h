// `dlrig bench compare A B`: two runs side by side, figure by figure (key + GPU), with the
// change from A to B and a flag where B is worse (a regression) or better by more than a
// threshold. Which way is better follows the unit: time and error counts fall, the rest rise.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/report_json.h"

namespace dlrig::bench {

enum class Change {
  kSame,         ///< within the threshold
  kRegression,   ///< B worse by more than the threshold, or B failed where A did not
  kImprovement,  ///< B better by more than the threshold
  kOnlyA,        ///< the figure is in A only
  kOnlyB,        ///< in B only
  kNoFigure,     ///< in both, but one side has no figure (waived, error)
};
std::string_view ChangeName(Change change);

struct CompareRow {
  std::string key;
  std::optional<int> device;
  std::string unit;
  std::optional<double> a, b;  ///< medians; absent where that side has no figure
  Verdict verdict_a = Verdict::kInfo, verdict_b = Verdict::kInfo;
  std::optional<double> change_percent;  ///< (b - a) / a x 100
  Change change = Change::kSame;
};

struct Comparison {
  std::vector<CompareRow> rows;  ///< A's order, then what only B has
  int regressions = 0;
  int improvements = 0;
};

/// True for units where a smaller figure is better ("us", "ms", "s", "errors").
bool LowerIsBetter(std::string_view unit);

/// `threshold_percent` >= 0: a change of more than this is flagged.
Comparison Compare(std::span<const Measurement> a, std::span<const Measurement> b,
                   double threshold_percent);

std::string ComparisonText(const Comparison& comparison, std::string_view label_a,
                           std::string_view label_b, double threshold_percent, bool colour);
ojson ComparisonJson(const Comparison& comparison, std::string_view label_a,
                     std::string_view label_b, double threshold_percent);

}  // namespace dlrig::bench
