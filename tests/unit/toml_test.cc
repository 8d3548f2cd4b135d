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
  for (const auto& f : EmbeddedDataFiles()) EXPECT_EQ(TomlInputProblem(f.text), "") << f.name;
}

// A table header whose name starts with neither a key character nor a quote broke toml++'s
// parse_key precondition: an assertion that killed a debug `doctor` on a `[[[` line in
// /etc/nvidia-container-runtime/config.toml. It is refused before parsing, with its line.
TEST(TomlTest, HeaderWithoutANameStartIsRefused) {
  for (const char* bad : {"[[[", "[[[a]]]", "x = 1\n  [[ [a]]\n", "[.a]", "[=]", "[ #\n",
                          "[\na]", "[[\n", "[ \t\r\n", "a = [1]\n[[[x"}) {
    EXPECT_NE(TomlInputProblem(bad), "") << bad;
    auto parsed = ParseToml(bad, "config.toml");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(parsed.error().message.find("config.toml: line "), std::string::npos)
        << parsed.error().message;
  }
  EXPECT_NE(TomlInputProblem("a = 1\n\n[[[").find("line 3"), std::string::npos);
}

// An array element that starts with '}' broke parse_value's precondition (the fuzzer's first
// find once toml++'s assertions were on: `m =[}[`).
TEST(TomlTest, ArrayElementStartingWithABraceIsRefused) {
  for (const char* bad : {"m =[}[", "a = [}", "a = [1, }]", "a = [\n  # c\n}]", "a = {b = [}]}",
                          "a = [[1], }]"}) {
    EXPECT_NE(TomlInputProblem(bad).find("array element"), std::string::npos) << bad;
    EXPECT_FALSE(ParseToml(bad, "x")) << bad;
  }
  for (const char* good : {"a = [{}]\n", "a = [{b = 1}, {c = [2]}]\n", "a = [ {b = '}'} ]\n",
                           "a = ['}', \"}\"]\n", "a = [1, # }\n 2]\n"}) {
    EXPECT_EQ(TomlInputProblem(good), "") << good;
    EXPECT_TRUE(ParseToml(good, "x")) << good;
  }
}

// The guard looks only at headers: a line that starts with brackets inside an array, a
// string or a comment is a value, and such files still parse.
TEST(TomlTest, BracketsInValuesAreNoHeaders) {
  for (const char* good : {
           "a = [\n  [[1], [2]],\n  [[[3]]],\n]\n[t]\nb = 1\n",
           "s = '''\n[[[\n'''\n[t]\n",
           "s = \"\"\"\n[ #\n\\\"\"\"\n\"\"\"\n",
           "q = \"a[\\\"[\"\n[t]\n",
           "# [[[\n[\"quoted.key\"]\n[ 'lit' ]\n[[arr]]\n[[ arr ]]\n[a . b]\n",
           "x = {y = [\n[[1]]]}\n",
       }) {
    EXPECT_EQ(TomlInputProblem(good), "") << good;
    EXPECT_TRUE(ParseToml(good, "x")) << good << ": " << ParseToml(good, "x").error().message;
  }
  // toml++'s own error for a blank name, not the guard's.
  EXPECT_EQ(TomlInputProblem("[[ ]]\n"), "");
  EXPECT_FALSE(ParseToml("[[ ]]\n", "x"));
}

}  // namespace
}  // namespace dlrig
