#include "core/root.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace dlrig {
namespace {

namespace fs = std::filesystem;

class RootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dlrig-root-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "etc");
    fs::create_directories(dir_ / "usr/lib");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  fs::path dir_;
};

TEST_F(RootTest, AbsoluteLinksResolveInsideTheRoot) {
  Write("usr/lib/os-release", "ID=ubuntu\n");
  fs::create_symlink("/usr/lib/os-release", dir_ / "etc/os-release");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  EXPECT_FALSE(root->IsHost());
  auto text = root->ReadFile("/etc/os-release");
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "ID=ubuntu\n");
  EXPECT_EQ(*root->Resolve("/etc/os-release"), "/usr/lib/os-release");
  EXPECT_EQ(*root->ReadLink("/etc/os-release"), "/usr/lib/os-release");
}

TEST_F(RootTest, DotDotCannotEscapeTheRoot) {
  fs::create_symlink("../../../../../../etc/passwd", dir_ / "etc/escape");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  auto text = root->ReadFile("/etc/escape");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().kind, ErrorKind::kNotFound);
}

TEST_F(RootTest, LoopsAndBrokenLinksAreErrorsNotCrashes) {
  fs::create_symlink("b", dir_ / "etc/a");
  fs::create_symlink("a", dir_ / "etc/b");
  fs::create_symlink("/nowhere", dir_ / "etc/broken");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  EXPECT_EQ(root->ReadFile("/etc/a").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->ReadFile("/etc/broken").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(root->LStat("/etc/broken")->type, FileType::kSymlink);
}

TEST_F(RootTest, FlattenedCaptureLinksAreFollowed) {
  // Shared captures store a link as a file holding its target, without a newline.
  Write("usr/lib/libcudnn.so.9.14.0", "");
  Write("usr/lib/libcudnn.so.9", "libcudnn.so.9.14.0");
  Write("usr/lib/notalink", "libcudnn.so.9.14.0\n");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  EXPECT_EQ(*root->Resolve("/usr/lib/libcudnn.so.9"), "/usr/lib/libcudnn.so.9.14.0");
  EXPECT_EQ(*root->ReadLink("/usr/lib/libcudnn.so.9"), "libcudnn.so.9.14.0");
  EXPECT_EQ(root->LStat("/usr/lib/libcudnn.so.9")->type, FileType::kSymlink);
  EXPECT_EQ(root->LStat("/usr/lib/notalink")->type, FileType::kRegular);
}

TEST_F(RootTest, OversizedFileIsTooLarge) {
  Write("etc/big", std::string(10000, 'x'));
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  auto text = root->ReadFile("/etc/big", 1000);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().kind, ErrorKind::kTooLarge);
}

TEST_F(RootTest, MissingRootIsAnError) {
  auto root = Root::Open((dir_ / "absent").string());
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().kind, ErrorKind::kNotFound);
}

TEST(PathTest, Normalize) {
  EXPECT_EQ(NormalizePath("/a/./b/../c//d/"), "/a/c/d");
  EXPECT_EQ(NormalizePath("/.."), "/");
  EXPECT_EQ(DirName("/a/b"), "/a");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(BaseName("/a/b"), "b");
}

}  // namespace
}  // namespace dlrig
