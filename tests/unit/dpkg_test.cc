#include "probe/dpkg.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

constexpr const char* kStatus =
    "Package: bash\nStatus: install ok installed\nVersion: 5.2\nDescription: shell\n continued\n\n"
    "Package: libnccl2\nStatus: hold ok installed\nPriority: optional\nVersion: 2.28.3-1+cuda13.0\n"
    "\n"
    "Package: nvidia-driver-580-open\nStatus: deinstall ok config-files\nVersion: 580.95.05-0\n\n"
    "Package: cuda-toolkit-13-0\r\nStatus: install ok installed\r\nVersion: 13.0.2-1\r\n";

TEST(DpkgTest, KeepsOnlyStackPackagesWithHoldAndState) {
  auto pkgs = ParseDpkgStatus(kStatus);
  ASSERT_EQ(pkgs.size(), 3u);  // bash dropped; sorted by name
  EXPECT_EQ(pkgs[0].name, "cuda-toolkit-13-0");
  EXPECT_EQ(pkgs[0].version, "13.0.2-1");  // CRLF tolerated, last record without blank line
  EXPECT_EQ(pkgs[1].name, "libnccl2");
  EXPECT_TRUE(pkgs[1].held);
  EXPECT_TRUE(pkgs[1].installed);
  EXPECT_EQ(pkgs[2].name, "nvidia-driver-580-open");
  EXPECT_FALSE(pkgs[2].installed);
}

TEST(DpkgTest, ChunkBoundariesDoNotMatter) {
  auto whole = ParseDpkgStatus(kStatus);
  std::string text = kStatus;
  for (size_t split = 1; split < text.size(); ++split) {
    DpkgStatusParser p;
    p.Feed(std::string_view(text).substr(0, split));
    p.Feed(std::string_view(text).substr(split));
    auto pkgs = p.Finish();
    ASSERT_EQ(pkgs.size(), whole.size()) << split;
    for (size_t i = 0; i < pkgs.size(); ++i) EXPECT_EQ(pkgs[i].version, whole[i].version);
  }
}

TEST(DpkgTest, GarbageIsEmptyNotACrash) {
  EXPECT_TRUE(ParseDpkgStatus(std::string("\0\xff:::\n\n\n Package\n", 18)).empty());
}

TEST(DpkgTest, MissingStatusIsUnknown) {
  testing::TempTree t;
  t.Mkdir("etc");
  testing::Fixture f(t.dir().string());
  DpkgFacts d = ProbeDpkg(f.ctx());
  ASSERT_FALSE(d.packages);
  EXPECT_EQ(d.packages.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(d.WithPrefix("libnccl").empty());
}

TEST(DpkgTest, H100Capture) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  DpkgFacts d = ProbeDpkg(cap->ctx());
  ASSERT_TRUE(d.packages) << d.packages.error().message;
  const DpkgPackage* cudnn = d.Find("libcudnn9-cuda-13");
  ASSERT_NE(cudnn, nullptr);
  EXPECT_EQ(cudnn->version, "9.14.0.64-1");
  EXPECT_TRUE(cudnn->held);
  ASSERT_NE(d.Find("libnccl2"), nullptr);
  EXPECT_EQ(d.Find("libnccl2")->version, "2.28.3-1+cuda13.0");
  EXPECT_EQ(d.Find("cuda-cudart-13-0")->version, "13.0.96-1");
}

}  // namespace
}  // namespace dlrig
