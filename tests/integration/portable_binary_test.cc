// The binary must run on Ubuntu 22.04+, Debian 12+, RHEL 9+: it may need only glibc's
// libraries and libgcc_s, and no glibc symbol newer than GLIBC_2.34.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "core/exec.h"
#include "core/strings.h"
#include "core/version.h"

namespace dlrig {
namespace {

std::string Output(const std::vector<std::string>& argv) {
  SystemRunner runner;
  auto r = runner.Run(argv, ExecOptions{std::chrono::milliseconds(30000), 16u << 20});
  if (!r || r->exit_code != 0) return "";
  return r->out;
}

TEST(PortableBinary, NeedsOnlyGlibcAndLibgcc) {
  std::string dynamic = Output({"readelf", "-d", DLRIG_BINARY});
  if (dynamic.empty()) GTEST_SKIP() << "readelf (binutils) not available";
  std::regex needed(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  std::set<std::string> libs;
  for (std::sregex_iterator it(dynamic.begin(), dynamic.end(), needed), end; it != end; ++it)
    libs.insert((*it)[1]);
  const std::set<std::string> allowed = {"libc.so.6", "libm.so.6", "libgcc_s.so.1",
                                         "ld-linux-x86-64.so.2"};
  EXPECT_FALSE(libs.empty());
  for (auto& lib : libs) EXPECT_TRUE(allowed.count(lib)) << "links " << lib;
}

TEST(PortableBinary, NewestGlibcSymbolIs234OrOlder) {
  std::string symbols = Output({"objdump", "-T", DLRIG_BINARY});
  if (symbols.empty()) GTEST_SKIP() << "objdump (binutils) not available";
  std::regex glibc(R"(GLIBC_([0-9.]+))");
  Version newest = *Version::Parse("0");
  for (std::sregex_iterator it(symbols.begin(), symbols.end(), glibc), end; it != end; ++it)
    if (auto v = Version::Parse((*it)[1].str()); v && *v > newest) newest = *v;
  EXPECT_LE(newest, *Version::Parse("2.34")) << "needs GLIBC_" << newest.text;
  EXPECT_GT(newest, *Version::Parse("2.0"));
}

}  // namespace
}  // namespace dlrig
