// Symbol-version needs against real libraries built here with version scripts, and the
// prediction checked against what glibc's loader does with the same files.
#include "probe/elf_symbols.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "probe/loader.h"
#include "test_util.h"

namespace dlrig {
namespace {

using dlrig::testing::TempTree;

bool HasNeed(const ElfSymbols& s, std::string_view name, std::string_view version,
             std::string_view file) {
  return std::any_of(s.needs.begin(), s.needs.end(), [&](const ElfSymbolNeed& n) {
    return n.name == name && n.version == version && n.file == file;
  });
}

bool HasDef(const ElfSymbols& s, std::string_view name, std::string_view version) {
  return std::any_of(s.defs.begin(), s.defs.end(), [&](const ElfSymbolDef& d) {
    return d.name == name && d.version == version;
  });
}

// libfoo.so.1 in five builds: v1 (FOO_1.0: foo_a), v2 (adds FOO_1.1: foo_b), v3 (FOO_1.1
// exists but holds foo_c instead of foo_b); without a version script: plain (foo_a, foo_b,
// no version table at all) and libc (foo_a, foo_b calling getpid: a .gnu.version table that
// only records its needs of libc).
// `app` is linked against v2 and calls foo_a and foo_b.
class ElfSymbolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("v1.map", "FOO_1.0 { global: foo_a; local: *; };\n");
    tree_.Write("v2.map", "FOO_1.0 { global: foo_a; local: *; };\nFOO_1.1 { global: foo_b; } FOO_1.0;\n");
    tree_.Write("v3.map", "FOO_1.0 { global: foo_a; local: *; };\nFOO_1.1 { global: foo_c; } FOO_1.0;\n");
    tree_.Write("foo1.c", "int foo_a(void){return 1;}\n");
    tree_.Write("foo2.c", "int foo_a(void){return 1;}\nint foo_b(void){return 2;}\n");
    tree_.Write("foo3.c", "int foo_a(void){return 1;}\nint foo_c(void){return 3;}\n");
    tree_.Write("foo4.c", "#include <unistd.h>\nint foo_a(void){return 1;}\n"
                          "int foo_b(void){return getpid() > 0 ? 2 : 0;}\n");
    tree_.Write("app.c", "int foo_a(void);\nint foo_b(void);\n"
                         "int main(void){return foo_a() + foo_b() == 3 ? 0 : 1;}\n");
    if (!Lib("v1", "foo1.c", "v1.map")) GTEST_SKIP() << "no C compiler";
    ASSERT_TRUE(Lib("v2", "foo2.c", "v2.map"));
    ASSERT_TRUE(Lib("v3", "foo3.c", "v3.map"));
    ASSERT_TRUE(Lib("plain", "foo2.c", ""));
    ASSERT_TRUE(Lib("libc", "foo4.c", ""));
    ASSERT_TRUE(Cc("-o " + Path("app") + " " + Path("app.c") + " " + Path("v2/libfoo.so.1")));
  }
  std::string Path(const std::string& rel) const { return (tree_.dir() / rel).string(); }
  bool Cc(const std::string& args) const {
    return std::system(("cc " + args + " 2>/dev/null").c_str()) == 0;
  }
  bool Lib(const std::string& dir, const std::string& src, const std::string& map) {
    tree_.Mkdir(dir);
    std::string script = map.empty() ? "" : " -Wl,--version-script=" + Path(map);
    return Cc("-shared -fPIC -Wl,-soname,libfoo.so.1" + script + " -o " + Path(dir) +
              "/libfoo.so.1 " + Path(src));
  }
  ElfSymbols Read(const std::string& rel) {
    auto s = ReadElfSymbols(*root_, Path(rel));
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : ElfSymbols{};
  }
  // Runs `app` with libfoo.so.1 taken from `dir`, binding every symbol at start-up
  // (as dlopen(RTLD_NOW) does for Python extensions). Returns exit status and stderr.
  std::pair<int, std::string> RunApp(const std::string& dir) {
    std::string cmd = "env LD_BIND_NOW=1 LD_LIBRARY_PATH='" + Path(dir) + "' " + Path("app") + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[1024];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    int status = p ? pclose(p) : -1;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  TempTree tree_;
  std::unique_ptr<Root> root_ = std::make_unique<Root>(std::move(*Root::Open("/")));
};

TEST_F(ElfSymbolsTest, ImporterNeedsCarryVersionAndFile) {
  ElfSymbols app = Read("app");
  EXPECT_TRUE(HasNeed(app, "foo_b", "FOO_1.1", "libfoo.so.1"));
  EXPECT_TRUE(HasNeed(app, "foo_a", "FOO_1.0", "libfoo.so.1"));
  EXPECT_FALSE(HasNeed(app, "foo_b", "FOO_1.0", "libfoo.so.1"));
  // libc's versions name libc.so.6 as their file.
  EXPECT_TRUE(std::any_of(app.needs.begin(), app.needs.end(), [](const ElfSymbolNeed& n) {
    return n.file == "libc.so.6" && n.version.starts_with("GLIBC_");
  }));
}

TEST_F(ElfSymbolsTest, ProviderDefinitionsAndVersionNodes) {
  ElfSymbols v2 = Read("v2/libfoo.so.1");
  EXPECT_TRUE(HasDef(v2, "foo_a", "FOO_1.0"));
  EXPECT_TRUE(HasDef(v2, "foo_b", "FOO_1.1"));
  EXPECT_FALSE(HasDef(v2, "foo_b", "FOO_1.0"));
  std::vector<std::string> nodes;
  for (const ElfVersionDef& d : v2.version_defs) nodes.push_back(std::string(d.name));
  EXPECT_EQ(nodes, (std::vector<std::string>{"libfoo.so.1", "FOO_1.0", "FOO_1.1"}));
  EXPECT_TRUE(v2.version_defs[0].base);
  EXPECT_TRUE(v2.has_version_table);
  ElfSymbols plain = Read("plain/libfoo.so.1");
  EXPECT_TRUE(plain.version_defs.empty());
  EXPECT_FALSE(plain.has_version_table);
  EXPECT_TRUE(HasDef(plain, "foo_b", ""));
  ElfSymbols libc = Read("libc/libfoo.so.1");
  EXPECT_TRUE(libc.version_defs.empty());
  EXPECT_TRUE(libc.has_version_table);
}

TEST_F(ElfSymbolsTest, PredictionMatchesGlibc) {
  ElfSymbols app = Read("app");
  struct Case {
    std::string dir;
    std::vector<std::string> missing_versions;
    std::vector<std::string> missing_symbols;  // name@version
    std::string glibc_says;                     // "" when it runs
  };
  std::vector<Case> cases = {
      {"v1", {"FOO_1.1"}, {"foo_b@FOO_1.1"}, "version `FOO_1.1' not found"},
      {"v2", {}, {}, ""},
      {"v3", {}, {"foo_b@FOO_1.1"}, "undefined symbol: foo_b, version FOO_1.1"},
      // No version definitions: a version table lets names match; none makes ld.so assert.
      {"libc", {}, {}, ""},
      {"plain", {}, {"foo_a@FOO_1.0", "foo_b@FOO_1.1"}, "Inconsistency detected by ld.so"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dir);
    SymbolCheck check = CheckSymbolNeeds(app, "libfoo.so.1", Read(c.dir + "/libfoo.so.1"));
    EXPECT_EQ(check.missing_versions, c.missing_versions);
    std::vector<std::string> symbols;
    for (const MissingSymbol& m : check.missing_symbols) symbols.push_back(m.name + "@" + m.version);
    EXPECT_EQ(symbols, c.missing_symbols);
    auto [rc, err] = RunApp(c.dir);
    EXPECT_EQ(check.ok(), rc == 0) << err;
    if (!c.glibc_says.empty()) {
      EXPECT_NE(err.find(c.glibc_says), std::string::npos) << err;
    }
  }
}

TEST_F(ElfSymbolsTest, NeedsOfOtherFilesAreNotChargedToProvider) {
  ElfSymbols app = Read("app");
  // Checked against v1 under another name, nothing is needed of it.
  EXPECT_TRUE(CheckSymbolNeeds(app, "libbar.so.2", Read("v1/libfoo.so.1")).ok());
  // The host's own libc meets the GLIBC_ versions it was linked against.
  const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
  if (!std::filesystem::exists(libc)) GTEST_SKIP() << "no " << libc;
  auto provider = ReadElfSymbols(*root_, libc);
  ASSERT_TRUE(provider) << provider.error().message;
  EXPECT_TRUE(CheckSymbolNeeds(app, "libc.so.6", *provider).ok());
  // The same needs charged to a provider that lacks them all are all reported.
  SymbolCheck against_foo = CheckSymbolNeeds(app, "libc.so.6", Read("v2/libfoo.so.1"));
  EXPECT_FALSE(against_foo.missing_versions.empty());
  EXPECT_FALSE(against_foo.missing_symbols.empty());
}

TEST_F(ElfSymbolsTest, LoaderReportsUnmetNeedsPerDependency) {
  auto elf = ReadElf(*root_, Path("app"));
  ASSERT_TRUE(elf);
  ElfSymbols app = Read("app");
  LoaderSearch search;
  search.ld_library_path = {Path("v1")};
  auto r = ResolveNeeded(*root_, search, Path("app"), *elf, "libfoo.so.1", &app);
  ASSERT_TRUE(r.path);
  ASSERT_TRUE(r.symbols.has_value());
  ASSERT_TRUE(*r.symbols);
  EXPECT_EQ((*r.symbols)->missing_versions, std::vector<std::string>{"FOO_1.1"});
  search.ld_library_path = {Path("v2")};
  r = ResolveNeeded(*root_, search, Path("app"), *elf, "libfoo.so.1", &app);
  ASSERT_TRUE(r.symbols.has_value() && *r.symbols);
  EXPECT_TRUE((*r.symbols)->ok());
  // Without the importer's symbols nothing is checked.
  EXPECT_FALSE(ResolveNeeded(*root_, search, Path("app"), *elf, "libfoo.so.1").symbols);
}

TEST(ElfSymbolsParseTest, GarbageAndTruncationAreErrors) {
  EXPECT_FALSE(ParseElfSymbolsBytes(""));
  EXPECT_FALSE(ParseElfSymbolsBytes("not an elf file at all, but long enough to have a header..."));
  TempTree tree;
  tree.Write("f.c", "int f(void){return 1;}\n");
  std::string so = (tree.dir() / "libf.so").string();
  if (std::system(("cc -shared -fPIC -o " + so + " " + (tree.dir() / "f.c").string() + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "no C compiler";
  auto root = Root::Open("/");
  auto bytes = root->ReadFile(so, 1 << 20);
  ASSERT_TRUE(bytes);
  ASSERT_TRUE(ParseElfSymbolsBytes(*bytes));
  // Cut before the section headers (at the end of the file): a clear error, no crash.
  auto cut = ParseElfSymbolsBytes(std::string_view(*bytes).substr(0, bytes->size() / 2));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().kind, ErrorKind::kMalformed);
}

// Benchmark, not a test: run with
//   dlrig_tests --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Bench*'
// Builds a library with 100k long exported symbols (libtorch_cpu.so has ~100k) in two
// version nodes and prints how long reading and checking it takes. DLRIG_BENCH_ELF=path
// times a real library as well.
TEST(ElfSymbolsBench, DISABLED_BenchReadLargeLibrary) {
  TempTree tree;
  constexpr int kSymbols = 100000;
  std::string asm_text = ".text\n", map = "BENCH_1.0 {\n global:\n";
  for (int i = 0; i < kSymbols; ++i) {
    std::string name = "_ZN2at6native12_GLOBAL__N_119bench_kernel_impl_" + std::to_string(i) +
                       "ERKNS_6TensorES4_N3c108optionalINS5_10ScalarTypeEEE";
    asm_text += ".globl " + name + "\n.type " + name + ",@function\n" + name + ":\nret\n";
    if (i == kSymbols / 2) map += " local: *;\n};\nBENCH_1.1 {\n global:\n";
    map += "  " + name + ";\n";
  }
  map += "} BENCH_1.0;\n";
  tree.Write("big.s", asm_text);
  tree.Write("big.map", map);
  std::string so = (tree.dir() / "libbig.so").string();
  ASSERT_EQ(std::system(("cc -shared -nostdlib -Wl,--version-script=" + (tree.dir() / "big.map").string() +
                         " -o " + so + " " + (tree.dir() / "big.s").string())
                            .c_str()),
            0);
  auto root = Root::Open("/");
  std::vector<std::string> paths = {so};
  if (const char* extra = std::getenv("DLRIG_BENCH_ELF")) paths.push_back(extra);
  for (const std::string& path : paths) {
    ReadElfSymbols(*root, path);  // warm the page cache
    constexpr int kRuns = 5;
    std::vector<double> ms;
    size_t count = 0;
    for (int run = 0; run < kRuns; ++run) {
      auto t0 = std::chrono::steady_clock::now();
      auto s = ReadElfSymbols(*root, path);
      auto t1 = std::chrono::steady_clock::now();
      ASSERT_TRUE(s) << s.error().message;
      count = s->defs.size() + s->needs.size();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      // Worst case for the check: an importer that needs every symbol the library defines.
      ElfSymbols importer;
      importer.strings = s->strings;
      for (const ElfSymbolDef& d : s->defs)
        if (!d.version.empty()) importer.needs.push_back({d.name, d.version, "libbig.so", false});
      auto t2 = std::chrono::steady_clock::now();
      SymbolCheck check = CheckSymbolNeeds(importer, "libbig.so", *s);
      EXPECT_TRUE(check.ok());
      if (run == kRuns - 1)
        std::printf("  check of %zu needs: %.2f ms\n", importer.needs.size(),
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t2).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%s: %zu dynamic symbols, read median %.2f ms (min %.2f, max %.2f)\n", path.c_str(),
                count, ms[kRuns / 2], ms.front(), ms.back());
  }
}

}  // namespace
}  // namespace dlrig
