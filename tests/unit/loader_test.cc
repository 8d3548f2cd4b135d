// The loader model against real libraries built here, checked against glibc's own
// ld.so --list for the same files and environment.
#include "probe/loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "core/strings.h"
#include "test_util.h"

namespace dlrig {
namespace {

using dlrig::testing::TempTree;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("dep.c", "int dep(void){return 1;}\n");
    tree_.Write("main.c", "int dep(void);\nint top(void){return dep();}\n");
    for (const char* d : {"a", "b", "c"}) {
      tree_.Mkdir(d);
      if (!Cc(std::string("-shared -fPIC -Wl,-soname,libdep.so.1 -o ") + Path(d) + "/libdep.so.1 " +
              Path("dep.c")))
        GTEST_SKIP() << "no C compiler";
    }
    tree_.Mkdir("app/lib");
  }
  std::string Path(const std::string& rel) const { return (tree_.dir() / rel).string(); }
  bool Cc(const std::string& args) const {
    return std::system(("cc " + args + " 2>/dev/null").c_str()) == 0;
  }
  // Builds app/lib/libtop.so needing libdep.so.1 with the given -rpath and dtags.
  std::string BuildImporter(const std::string& rpath, bool runpath) {
    std::string out = Path("app/lib/libtop.so");
    std::string flags =
        "-Wl,-rpath,'" + rpath + "'," + (runpath ? "--enable-new-dtags" : "--disable-new-dtags");
    EXPECT_TRUE(Cc("-shared -fPIC -o " + out + " " + Path("main.c") + " " + Path("a") +
                   "/libdep.so.1 " + flags));
    return out;
  }
  // What glibc's loader itself picks for libdep.so.1.
  std::string GlibcChoice(const std::string& importer, const std::string& ld_library_path) {
    std::string cmd = "env LD_LIBRARY_PATH='" + ld_library_path +
                      "' /lib64/ld-linux-x86-64.so.2 --list " + importer + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return "";
    char line[4096];
    std::string found;
    while (fgets(line, sizeof line, p)) {
      std::string l(Trim(line));
      if (StartsWith(l, "libdep.so.1 => "))
        found = std::filesystem::weakly_canonical(l.substr(15, l.find(" (") - 15)).string();
    }
    pclose(p);
    return found;
  }
  LoaderResolution Resolve(const std::string& importer, std::vector<std::string> llp) {
    auto root = Root::Open("/");
    auto elf = ReadElf(*root, importer);
    EXPECT_TRUE(elf) << elf.error().message;
    LoaderSearch search;
    search.config = &config_;
    search.ld_library_path = std::move(llp);
    return ResolveNeeded(*root, search, importer, *elf, "libdep.so.1");
  }

  TempTree tree_;
  LoaderConfig config_;
};

TEST_F(LoaderTest, RunpathWithOriginMatchesGlibc) {
  std::string importer = BuildImporter("$ORIGIN/../../b", true);
  auto r = Resolve(importer, {});
  ASSERT_TRUE(r.path) << r.path.error().message;
  EXPECT_EQ(*r.path, Path("b/libdep.so.1"));
  EXPECT_EQ(r.step, LoaderStep::kRunpath);
  EXPECT_EQ(*r.path, GlibcChoice(importer, ""));
}

TEST_F(LoaderTest, LdLibraryPathBeatsRunpathMatchesGlibc) {
  std::string importer = BuildImporter("$ORIGIN/../../b", true);
  auto r = Resolve(importer, {Path("c")});
  ASSERT_TRUE(r.path);
  EXPECT_EQ(*r.path, Path("c/libdep.so.1"));
  EXPECT_EQ(r.step, LoaderStep::kLdLibraryPath);
  EXPECT_EQ(*r.path, GlibcChoice(importer, Path("c")));
}

TEST_F(LoaderTest, RpathBeatsLdLibraryPathMatchesGlibc) {
  std::string importer = BuildImporter("$ORIGIN/../../b", false);
  auto r = Resolve(importer, {Path("c")});
  ASSERT_TRUE(r.path);
  EXPECT_EQ(*r.path, Path("b/libdep.so.1"));
  EXPECT_EQ(r.step, LoaderStep::kRpath);
  EXPECT_EQ(*r.path, GlibcChoice(importer, Path("c")));
}

TEST_F(LoaderTest, MissingDirsAreListedThenCacheThenDefaults) {
  std::string importer = BuildImporter(Path("nowhere"), true);
  config_.cache = std::vector<LoaderCacheEntry>{{"libdep.so.1", Path("c/libdep.so.1")}};
  auto r = Resolve(importer, {Path("empty")});
  ASSERT_TRUE(r.path);
  EXPECT_EQ(*r.path, Path("c/libdep.so.1"));
  EXPECT_EQ(r.step, LoaderStep::kCache);
  ASSERT_EQ(r.tried.size(), 3u);
  EXPECT_EQ(r.tried[0].step, LoaderStep::kLdLibraryPath);
  EXPECT_EQ(r.tried[1].step, LoaderStep::kRunpath);
  config_.cache = std::vector<LoaderCacheEntry>{};
  config_.default_dirs = {Path("a")};
  r = Resolve(importer, {});
  ASSERT_TRUE(r.path);
  EXPECT_EQ(r.step, LoaderStep::kDefaultDirs);
  config_.default_dirs = {};
  EXPECT_FALSE(Resolve(importer, {}).path);
}

TEST_F(LoaderTest, PlaceholderIsTakenAndMarked) {
  tree_.Write("p/libdep.so.1", "");
  ElfInfo assumed;
  assumed.runpath = {"$ORIGIN/../p"};
  assumed.has_runpath = true;
  auto root = Root::Open(tree_.dir().string());
  LoaderSearch search;
  auto r = ResolveNeeded(*root, search, "/app/libtop.so", assumed, "libdep.so.1");
  ASSERT_TRUE(r.path);
  EXPECT_EQ(*r.path, "/p/libdep.so.1");
  EXPECT_TRUE(r.placeholder);
}

TEST(LoaderDstTest, ExpandsOriginLibPlatform) {
  LoaderSearch s;
  EXPECT_EQ(ExpandDst("$ORIGIN/../lib", "/a/b", s), "/a/b/../lib");
  EXPECT_EQ(ExpandDst("${ORIGIN}/x:$LIB/$PLATFORM", "/o", s), "/o/x:lib/x86_64-linux-gnu/x86_64");
  EXPECT_EQ(ExpandDst("$LIBRARY", "/o", s), "$LIBRARY");
  EXPECT_STREQ(LoaderStepName(LoaderStep::kCache), "ld_so_cache");
}

}  // namespace
}  // namespace dlrig
