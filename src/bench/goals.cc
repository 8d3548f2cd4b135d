#include "bench/goals.h"

#include "core/toml.h"
#include "knowledge/data_files.h"

namespace dlrig::bench {

Result<Goals> Goals::Parse(std::string_view text) {
  auto doc = ParseToml(text, "bench-goals.toml");
  if (!doc) return tl::unexpected(doc.error());
  Goals out;
  const toml::array* rows = (*doc)["goal"].as_array();
  if (!rows) return out;
  for (const toml::node& node : *rows) {
    const toml::table* row = node.as_table();
    if (!row) return Fail(ErrorKind::kMalformed, "bench-goals.toml: a [[goal]] is not a table");
    Goal g;
    g.benchmark = (*row)["benchmark"].value_or(std::string());
    g.case_name = (*row)["case"].value_or(std::string());
    g.limit = (*row)["limit"].value_or(std::string());
    g.good = (*row)["good"].value<double>();
    g.problem = (*row)["problem"].value<double>();
    g.tentative = (*row)["tentative"].value_or(false);
    if (g.benchmark.empty() || g.case_name.empty()) {
      return Fail(ErrorKind::kMalformed, "bench-goals.toml: a [[goal]] lacks benchmark or case");
    }
    out.goals_.push_back(std::move(g));
  }
  return out;
}

const Result<Goals>& Goals::BuiltIn() {
  static const Result<Goals> goals = [] () -> Result<Goals> {
    auto text = DataFileText("bench-goals.toml");
    if (!text) return tl::unexpected(text.error());
    return Parse(*text);
  }();
  return goals;
}

const Goal* Goals::Find(std::string_view benchmark, std::string_view case_name) const {
  for (const Goal& g : goals_) {
    if (g.benchmark == benchmark && g.case_name == case_name) return &g;
  }
  return nullptr;
}

Goal GoalFor(std::string_view benchmark, std::string_view case_name) {
  const auto& goals = Goals::BuiltIn();
  if (goals) {
    if (const Goal* g = goals->Find(benchmark, case_name)) return *g;
  }
  return {};
}

}  // namespace dlrig::bench
