#include "probe/libs.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

TEST(LibsTest, HeaderVersions) {
  EXPECT_EQ(*ParseLibraryHeaderVersion(
                "cudnn", "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 14\n#define CUDNN_PATCHLEVEL 0\n"),
            "9.14.0");
  EXPECT_EQ(*ParseLibraryHeaderVersion(
                "nccl", "#define NCCL_MAJOR 2\n#define NCCL_MINOR 28\n#define NCCL_PATCH 3\n"),
            "2.28.3");
  EXPECT_EQ(*ParseLibraryHeaderVersion("cublas", "#define CUBLAS_VER_MAJOR 13\n"
                                                 "#define CUBLAS_VER_MINOR 1\n"
                                                 "#define CUBLAS_VER_PATCH 0\n"),
            "13.1.0");
  EXPECT_EQ(*ParseLibraryHeaderVersion("tensorrt", "#define NV_TENSORRT_MAJOR 10\n"
                                                   "#define NV_TENSORRT_MINOR 13\n"
                                                   "#define NV_TENSORRT_PATCH 3\n"),
            "10.13.3");
  auto bad = ParseLibraryHeaderVersion("cudnn", "#define CUDNN_MAJOR nine\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kMalformed);
}

TEST(LibsTest, VersionFromFileNames) {
  EXPECT_EQ(*VersionFromSoNames("libnccl.so", {"libnccl.so", "libnccl.so.2", "libnccl.so.2.28.3"}),
            "2.28.3");
  EXPECT_EQ(*VersionFromSoNames("libcudnn.so", {"libcudnn.so.9"}), "9");
  EXPECT_FALSE(VersionFromSoNames("libcudnn.so", {"libcudnn.so"}));
}

TEST(LibsTest, FixtureCopiesAndGarbageHeader) {
  testing::TempTree t;
  t.Write("usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.7", "");
  t.Link("libcudnn.so.8.9.7", "usr/lib/x86_64-linux-gnu/libcudnn.so.8");
  t.Write("usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudnn.so.9", "");
  t.Write("usr/include/cudnn_version.h", "\xff\xfe garbage");
  t.Write("opt/ignored/libnccl.so.2.1.0", "");
  testing::Fixture f(t.dir().string());
  LibraryFacts l = ProbeLibraries(f.ctx(), LoaderConfig{}, DpkgFacts{});
  ASSERT_EQ(l.copies.size(), 3u);
  EXPECT_EQ(l.copies[0].path, "/usr/lib/x86_64-linux-gnu");
  EXPECT_EQ(*l.copies[0].version, "8.9.7");
  EXPECT_EQ(*l.copies[1].version, "9");
  EXPECT_EQ(l.copies[2].kind, "header");
  EXPECT_FALSE(l.copies[2].version);
}

TEST(LibsTest, H100Capture) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  LibraryFacts l = ProbeLibraries(cap->ctx(), ProbeLoaderConfig(cap->ctx()), ProbeDpkg(cap->ctx()));
  auto find = [&](const std::string& lib, const std::string& path) -> const LibraryCopy* {
    for (auto& c : l.copies)
      if (c.library == lib && c.path == path) return &c;
    return nullptr;
  };
  auto* cudnn_h = find("cudnn", "/usr/include/x86_64-linux-gnu/cudnn_version.h");
  ASSERT_NE(cudnn_h, nullptr);
  EXPECT_EQ(*cudnn_h->version, "9.14.0");
  auto* cudnn_so = find("cudnn", "/usr/lib/x86_64-linux-gnu");
  ASSERT_NE(cudnn_so, nullptr);
  EXPECT_EQ(*cudnn_so->version, "9.14.0");
  EXPECT_EQ(cudnn_so->version_source, "libcudnn.so.9.14.0");
  auto* nccl_h = find("nccl", "/usr/include/nccl.h");
  ASSERT_NE(nccl_h, nullptr);
  EXPECT_EQ(*nccl_h->version, "2.28.3");
  auto* nccl_so = find("nccl", "/usr/lib/x86_64-linux-gnu");
  ASSERT_NE(nccl_so, nullptr);
  EXPECT_EQ(*nccl_so->version, "2.28.3");
  auto* cublas = find("cublas", "/usr/local/cuda-13.0/targets/x86_64-linux/lib");
  ASSERT_NE(cublas, nullptr);
  EXPECT_EQ(*cublas->version, "13.1.0.3");
  bool nccl2 = false;
  for (auto& p : l.packages) nccl2 |= p.name == "libnccl2" && p.held;
  EXPECT_TRUE(nccl2);
}

}  // namespace
}  // namespace dlrig
