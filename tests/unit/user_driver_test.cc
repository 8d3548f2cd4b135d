#include "probe/user_driver.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

TEST(UserDriverTest, NamesAndKinds) {
  EXPECT_EQ(*DriverVersionFromName("libcuda.so.580.159.04"), "580.159.04");
  EXPECT_EQ(*DriverVersionFromName("libnvidia-ml.so.550.54.14"), "550.54.14");
  EXPECT_FALSE(DriverVersionFromName("libcuda.so.1"));
  EXPECT_FALSE(DriverVersionFromName("libcuda.so"));
  EXPECT_FALSE(DriverVersionFromName("libcudart.so.13.0.96"));
  EXPECT_EQ(ClassifyDriverPath("/usr/local/cuda/lib64/stubs/libcuda.so"), DriverFileKind::kStub);
  EXPECT_EQ(ClassifyDriverPath("/usr/local/cuda-12.4/compat/libcuda.so.1"),
            DriverFileKind::kCompat);
  EXPECT_EQ(ClassifyDriverPath("/usr/lib/x86_64-linux-gnu/libcuda.so.1"), DriverFileKind::kDriver);
}

TEST(UserDriverTest, OnlyAStubIsNotADriver) {
  testing::TempTree t;
  t.Write("usr/local/cuda-13.0/targets/x86_64-linux/lib/stubs/libcuda.so", "");
  t.Link("cuda-13.0", "usr/local/cuda");
  t.Write("etc/ld.so.conf", "");
  testing::Fixture f(t.dir().string());
  LoaderConfig loader = ProbeLoaderConfig(f.ctx());
  UserDriverFacts u = ProbeUserDriver(f.ctx(), loader);
  ASSERT_EQ(u.files.size(), 1u);
  EXPECT_EQ(u.files[0].kind, DriverFileKind::kStub);
  EXPECT_FALSE(u.files[0].on_loader_path);
  ASSERT_EQ(u.picks.size(), 2u);
  EXPECT_FALSE(u.picks[0].resolution.path);
  EXPECT_EQ(u.query.error().kind, ErrorKind::kUnsupported);
}

TEST(UserDriverTest, BrokenLinkIsReported) {
  testing::TempTree t;
  t.Link("libcuda.so.550.54.14", "usr/lib/x86_64-linux-gnu/libcuda.so.1");
  t.Write("etc/ld.so.conf", "/usr/lib/x86_64-linux-gnu\n");
  testing::Fixture f(t.dir().string());
  UserDriverFacts u = ProbeUserDriver(f.ctx(), ProbeLoaderConfig(f.ctx()));
  ASSERT_EQ(u.files.size(), 1u);
  EXPECT_FALSE(u.files[0].real_path);
  EXPECT_FALSE(u.files[0].version);
}

TEST(UserDriverTest, H100Capture) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  UserDriverFacts u = ProbeUserDriver(cap->ctx(), ProbeLoaderConfig(cap->ctx()));
  const DriverLibraryFile* cuda = nullptr;
  for (auto& f : u.files)
    if (f.path == "/usr/local/nvidia/lib64/libcuda.so.1") cuda = &f;
  ASSERT_NE(cuda, nullptr);
  EXPECT_EQ(*cuda->real_path, "/usr/local/nvidia/lib64/libcuda.so.580.159.04");
  EXPECT_EQ(*cuda->version, "580.159.04");
  EXPECT_EQ(cuda->kind, DriverFileKind::kDriver);
  EXPECT_EQ(cuda->found_by.front(), "LD_LIBRARY_PATH");
  ASSERT_TRUE(u.picks[0].resolution.path);
  EXPECT_EQ(*u.picks[0].resolution.path, "/usr/local/nvidia/lib64/libcuda.so.1");
  EXPECT_FALSE(u.query);  // a foreign root is never loaded
}

}  // namespace
}  // namespace dlrig
