// data/bench-goals.toml read strictly: the loaders in src/bench take what they know and skip the
// rest, so a typo ("god = 0.75") or an uncited goal would pass unseen without this test.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bench/dtype.h"
#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

toml::table Goals() {
  auto text = DataFileText("bench-goals.toml");
  EXPECT_TRUE(text);
  auto doc = ParseToml(text ? *text : "", "bench-goals.toml");
  EXPECT_TRUE(doc) << doc.error().message;
  return doc ? *doc : toml::table{};
}

TEST(BenchGoalsDataTest, EveryGoalIsWellFormedAndCited) {
  toml::table doc = Goals();
  auto sources = ReadSources(doc, "bench-goals.toml");
  ASSERT_TRUE(sources) << sources.error().message;
  const toml::array* goals = doc["goal"].as_array();
  ASSERT_NE(goals, nullptr);
  std::set<std::string> seen;
  for (const toml::node& node : *goals) {
    ASSERT_TRUE(node.is_table());
    RowReader r(*node.as_table(), "goal");
    std::string id =
        r.String("benchmark", Need::kRequired) + "/" + r.String("case", Need::kRequired);
    EXPECT_TRUE(seen.insert(id).second) << id << " twice";
    std::set<std::string> limits = {"spec-clock", "memory-clock", "link", "tdp"};
    EXPECT_TRUE(limits.contains(r.String("limit", Need::kRequired))) << id;
    auto good = r.Number("good", Need::kOptional);
    auto problem = r.Number("problem", Need::kOptional);
    EXPECT_TRUE(good || problem) << id;
    if (good) {
      EXPECT_TRUE(*good > 0 && *good <= 1.5) << id;
    }
    if (good && problem) {
      EXPECT_LT(*problem, *good) << id;
    }
    r.Bool("derived");
    r.Bool("tentative");
    r.String("note", Need::kOptional);
    EXPECT_FALSE(r.Sources(*sources).empty()) << id;
    auto done = r.Finish();
    EXPECT_TRUE(done) << done.error().message;
  }
  EXPECT_GE(seen.size(), 15u);
}

// The cases must be the keys bench looks goals up by.
TEST(BenchGoalsDataTest, CasesAreTheKeysBenchUses) {
  toml::table doc = Goals();
  int gemm = 0;
  for (const toml::node& node : *doc["goal"].as_array()) {
    const toml::table& t = *node.as_table();
    std::string benchmark = t["benchmark"].value_or(std::string());
    std::string case_name = t["case"].value_or(std::string());
    if (benchmark == "gemm") {
      EXPECT_TRUE(bench::DTypeFromName(case_name)) << case_name;
      ++gemm;
    }
    if (benchmark == "memory") {  // the catalog's memory_type, lower case
      std::set<std::string> types = {"hbm2", "hbm2e", "hbm3", "hbm3e", "gddr6", "gddr6x", "gddr7"};
      EXPECT_TRUE(types.contains(case_name)) << case_name;
    }
  }
  EXPECT_EQ(gemm, 6);  // fp64 fp32 tf32 fp16 bf16 fp8; the research proposes none for int8
}

}  // namespace
}  // namespace dlrig
