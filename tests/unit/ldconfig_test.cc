#include "probe/ldconfig.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/exec.h"

namespace dlrig {
namespace {

TEST(LdconfigTest, ParsesThisMachinesBinaryCacheLikeLdconfigP) {
  std::ifstream in("/etc/ld.so.cache", std::ios::binary);
  if (!in) GTEST_SKIP() << "no /etc/ld.so.cache here";
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto entries = ParseLdSoCache(bytes.str());
  ASSERT_TRUE(entries) << entries.error().message;
  // The real ldconfig must list the same entries in the same order.
  SystemRunner runner;
  auto run = runner.Run({"/sbin/ldconfig", "-p"});
  if (!run) GTEST_SKIP() << "ldconfig not runnable: " << run.error().message;
  auto expected = ParseLdconfigP(run->out);
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(entries->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*entries)[i].soname, expected[i].soname);
    EXPECT_EQ((*entries)[i].path, expected[i].path);
  }
}

TEST(LdconfigTest, GarbageIsMalformedNotACrash) {
  EXPECT_FALSE(ParseLdSoCache(""));
  EXPECT_FALSE(ParseLdSoCache("ld.so-1.7.0\xff\xff\xff\xff"));
  std::string header = "glibc-ld.so.cache1.1";
  header.resize(48, '\0');
  header[20] = '\x10';  // 16 entries that are not there
  EXPECT_EQ(ParseLdSoCache(header).error().kind, ErrorKind::kMalformed);
}

TEST(LdconfigTest, ParsesLdconfigPText) {
  auto entries = ParseLdconfigP(
      "3 libs found in cache `/etc/ld.so.cache'\n"
      "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1\n"
      "\tlibfoo.so (libc6) => /usr/lib32/libfoo.so\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].soname, "libcuda.so.1");
  EXPECT_EQ(entries[0].path, "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
}

TEST(LdconfigTest, CaptureUsesConfIncludesAndSavedLdconfigP) {
  std::string dir = std::string(DLRIG_CAPTURES_DIR) + "/h100-ubuntu2404-torch211";
  auto root = Root::Open(dir);
  if (!root) GTEST_SKIP() << "capture not present";
  Environment env;
  NoRunner runner;
  ProbeContext ctx{*root, env, runner, {}, false};
  LoaderConfig cfg = ProbeLoaderConfig(ctx);
  ASSERT_TRUE(cfg.cache) << cfg.cache.error().message;
  EXPECT_EQ(cfg.cache->size(), 520u);
  auto has = [&](const std::string& d) {
    return std::find(cfg.conf_dirs.begin(), cfg.conf_dirs.end(), d) != cfg.conf_dirs.end();
  };
  EXPECT_TRUE(has("/usr/local/nvidia/lib64"));
  EXPECT_TRUE(has("/usr/local/cuda-13.0/targets/x86_64-linux/lib"));
  EXPECT_TRUE(has("/usr/lib/x86_64-linux-gnu"));
}

}  // namespace
}  // namespace dlrig
