#include "probe/elf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "core/strings.h"
#include "probe/elf_symbols.h"
#include "test_util.h"

namespace dlrig {
namespace {

using dlrig::testing::TempTree;

// Compiles a tiny shared library with the given linker flags; false when no cc is there.
bool BuildLib(const TempTree& tree, const std::string& out, const std::string& flags) {
  tree.Write("f.c", "#include <math.h>\ndouble f(double x){return cos(x);}\n");
  std::string cmd = "cc -shared -fPIC -o '" + (tree.dir() / out).string() + "' '" +
                    (tree.dir() / "f.c").string() + "' " + flags + " -lm 2>/dev/null";
  return std::system(cmd.c_str()) == 0;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ElfTest, ReadsSonameNeededRunpathAndVersionNeeds) {
  TempTree tree;
  if (!BuildLib(tree, "libf.so",
                "-Wl,-soname,libf.so.7,-rpath,'$ORIGIN/../x:/opt/y',--enable-new-dtags"))
    GTEST_SKIP() << "no C compiler";
  auto root = Root::Open("/");
  auto elf = ReadElf(*root, (tree.dir() / "libf.so").string());
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(elf->machine, 62);
  EXPECT_EQ(elf->soname, "libf.so.7");
  EXPECT_TRUE(std::count(elf->needed.begin(), elf->needed.end(), "libm.so.6"));
  EXPECT_TRUE(elf->has_runpath);
  EXPECT_EQ(elf->runpath, (std::vector<std::string>{"$ORIGIN/../x", "/opt/y"}));
  EXPECT_TRUE(elf->rpath.empty());
  // Its .gnu.version_r (read by elf_symbols): libm.so.6 must provide a GLIBC_2.x version.
  auto symbols = ReadElfSymbols(*root, (tree.dir() / "libf.so").string());
  ASSERT_TRUE(symbols) << symbols.error().message;
  auto libm = std::find_if(symbols->version_needs.begin(), symbols->version_needs.end(),
                           [](const ElfVersionNeedEntry& n) { return n.file == "libm.so.6"; });
  ASSERT_NE(libm, symbols->version_needs.end());
  EXPECT_TRUE(StartsWith(libm->version, "GLIBC_2."));
}

TEST(ElfTest, OldStyleRpathAndStrippedSections) {
  TempTree tree;
  if (!BuildLib(tree, "libg.so", "-s -Wl,-rpath,/opt/r,--disable-new-dtags"))
    GTEST_SKIP() << "no C compiler";
  auto root = Root::Open("/");
  auto elf = ReadElf(*root, (tree.dir() / "libg.so").string());
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_FALSE(elf->has_runpath);
  EXPECT_EQ(elf->rpath, std::vector<std::string>{"/opt/r"});
}

TEST(ElfTest, PlaceholderAndGarbageAreErrorsNotCrashes) {
  auto empty = ParseElfBytes("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(empty.error().message.find("placeholder"), std::string::npos);
  EXPECT_EQ(ParseElfBytes("#!/bin/sh\n").error().kind, ErrorKind::kMalformed);
  std::string elf32(64, '\0');
  elf32[0] = 0x7f, elf32[1] = 'E', elf32[2] = 'L', elf32[3] = 'F', elf32[4] = 1, elf32[5] = 1;
  EXPECT_EQ(ParseElfBytes(elf32).error().kind, ErrorKind::kUnsupported);
}

TEST(ElfTest, TruncatedAndMutatedLibrariesNeverCrash) {
  TempTree tree;
  if (!BuildLib(tree, "libh.so", "-Wl,-soname,libh.so.1")) GTEST_SKIP() << "no C compiler";
  std::string bytes = Slurp(tree.dir() / "libh.so");
  for (size_t cut = 0; cut < bytes.size(); cut += 97) (void)ParseElfBytes(bytes.substr(0, cut));
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::string copy = bytes;
    for (int k = 0; k < 8; ++k) copy[rng() % 1024 % copy.size()] = static_cast<char>(rng());
    (void)ParseElfBytes(copy);
  }
}

TEST(ElfTest, MachineNames) {
  EXPECT_EQ(ElfMachineName(62), "x86-64");
  EXPECT_EQ(ElfMachineName(183), "aarch64");
  EXPECT_EQ(ElfMachineName(0x99), "machine 0x99");
}

}  // namespace
}  // namespace dlrig
