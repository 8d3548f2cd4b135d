#include "core/toml.h"

#include <gtest/gtest.h>

#include "knowledge/embedded.h"

namespace dlrig {
namespace {

// Inputs that drive toml++ 3.3.0 into __builtin_unreachable (UB) are refused before parsing.
TEST(TomlTest, InputsThatBreakToml33AreRefused) {
  EXPECT_NE(TomlInputProblem("\xcc\xaa"), "");                      // marzer/tomlplusplus#295
  EXPECT_NE(TomlInputProblem("s = \"\"\"\\\n\xc2\xa7\"\"\"\n"), "");  // #190
  EXPECT_NE(TomlInputProblem("a = 1 \xe2\x80\x80\n"), "");           // non-ASCII as whitespace
  EXPECT_NE(TomlInputProblem("a = \"\xff\"\n"), "");                 // not UTF-8
  EXPECT_EQ(ParseToml("\xcc\xaa", "x").error().kind, ErrorKind::kMalformed);
}

TEST(TomlTest, OrdinaryFilesParse) {
  EXPECT_NE(TomlInputProblem(std::string_view("k = 'x\0y'\n", 10)), "");
  EXPECT_EQ(TomlInputProblem("# comment\nsource = \"compat-data.md section f\"\r\n\tk = 'x'\n"), "");
  auto t = ParseToml("[nvidia-container-runtime]\nmode = \"cdi\"  # the mode\n", "config.toml");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)["nvidia-container-runtime"]["mode"].value_or(std::string()), "cdi");
  EXPECT_EQ(ParseToml("[[[", "x").error().kind, ErrorKind::kMalformed);
  for (const auto& f : EmbeddedDataFiles()) EXPECT_EQ(TomlInputProblem(f.text), "") << f.name;
}

}  // namespace
}  // namespace dlrig
