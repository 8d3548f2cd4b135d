#include "core/root.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>

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

// Issue 14: a capture's /proc/cpuinfo replaced by the 9 bytes "cpuinfo/x" reads as a flattened
// link through itself; ResolveImpl and FlattenedLink recursed until the stack overflowed.
TEST_F(RootTest, FlattenedLinkThroughItselfIsALoopNotACrash) {
  Write("proc/cpuinfo", "cpuinfo/x");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  auto text = root->ReadFile("/proc/cpuinfo");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().kind, ErrorKind::kLoop) << text.error().message;
  EXPECT_NE(text.error().message.find("too many levels of symbolic links"), std::string::npos);
  EXPECT_EQ(root->Resolve("/proc/cpuinfo").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->Stat("/proc/cpuinfo/x").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->OpenFile("/proc/cpuinfo").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->ListDir("/proc/cpuinfo").error().kind, ErrorKind::kLoop);
  // Like lstat and readlink on a real link in a loop: the link itself is readable.
  EXPECT_EQ(root->LStat("/proc/cpuinfo")->type, FileType::kSymlink);
  EXPECT_EQ(*root->ReadLink("/proc/cpuinfo"), "cpuinfo/x");
}

TEST_F(RootTest, TwoFlattenedLinksNamingEachOtherAreALoop) {
  Write("etc/a", "b");
  Write("etc/b", "/etc/a");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  EXPECT_EQ(root->ReadFile("/etc/a").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->ReadFile("/etc/b/c").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->Resolve("/etc/b").error().kind, ErrorKind::kLoop);
}

// One budget of 40 links (the kernel's MAXSYMLINKS) per resolution, however the links are
// stored: each flattened link used to start a fresh one, so any chain resolved.
TEST_F(RootTest, OneHopBudgetForRealAndFlattenedLinks) {
  auto chain = [&](const std::string& prefix, int links) {
    Write("usr/lib/" + prefix + "-end", "data\n");
    for (int i = 0; i < links; ++i) {
      std::string name = prefix + std::to_string(i);
      std::string next = i + 1 < links ? prefix + std::to_string(i + 1) : prefix + "-end";
      if (i % 2 == 0)
        Write("usr/lib/" + name, next);  // flattened
      else
        fs::create_symlink(next, dir_ / "usr/lib" / name);
    }
  };
  chain("short", 40);
  chain("long", 41);
  chain("flat", 0);
  for (int i = 0; i < 60; ++i)
    Write("usr/lib/flat" + std::to_string(i),
          i + 1 < 60 ? "flat" + std::to_string(i + 1) : "flat-end");
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  auto text = root->ReadFile("/usr/lib/short0");
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "data\n");
  EXPECT_EQ(*root->Resolve("/usr/lib/short0"), "/usr/lib/short-end");
  EXPECT_EQ(root->ReadFile("/usr/lib/long0").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(root->Resolve("/usr/lib/flat0").error().kind, ErrorKind::kLoop);
  EXPECT_EQ(*root->Resolve("/usr/lib/flat30"), "/usr/lib/flat-end");
}

// Runs `call` with a deadline. A call that blocks on a FIFO is released by opening the FIFO's
// other end, so a regression fails the test instead of hanging it.
void ExpectReturns(const std::function<void()>& call, const fs::path& fifo) {
  auto done = std::async(std::launch::async, call);
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    ADD_FAILURE() << "blocked on the FIFO " << fifo;
    int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
    done.wait();
    if (fd >= 0) ::close(fd);
  }
}

TEST_F(RootTest, FifoIsAnErrorNamingItsTypeNeverABlockingRead) {
  ASSERT_EQ(::mkfifo((dir_ / "etc/fifo").c_str(), 0644), 0);
  Write("etc/to-fifo", "fifo");  // a flattened link to it
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  auto host = Root::Open("/");
  ASSERT_TRUE(host);
  for (const Root* r : {&*root, &*host}) {
    std::string path = r->IsHost() ? (dir_ / "etc/fifo").string() : "/etc/fifo";
    ExpectReturns([&] {
      auto file = r->OpenFile(path);
      ASSERT_FALSE(file);
      EXPECT_EQ(file.error().kind, ErrorKind::kUnsupported);
      EXPECT_NE(file.error().message.find("is a FIFO"), std::string::npos) << file.error().message;
    }, dir_ / "etc/fifo");
    ExpectReturns([&] {
      auto text = r->ReadFile(path);
      ASSERT_FALSE(text);
      EXPECT_NE(text.error().message.find("is a FIFO"), std::string::npos) << text.error().message;
      EXPECT_FALSE(r->ReadLine(path));
      EXPECT_FALSE(r->ListDir(path));
    }, dir_ / "etc/fifo");
  }
  ExpectReturns([&] {
    auto file = root->OpenFile("/etc/to-fifo");
    ASSERT_FALSE(file);
    EXPECT_NE(file.error().message.find("is a FIFO"), std::string::npos) << file.error().message;
  }, dir_ / "etc/fifo");
}

TEST_F(RootTest, DirectoryWhereAFileIsExpectedIsNamed) {
  auto root = Root::Open(dir_.string());
  ASSERT_TRUE(root);
  auto file = root->OpenFile("/etc");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("is a directory"), std::string::npos) << file.error().message;
  // A device node planted in a tree (here /dev/zero's numbers) is named, never read.
  if (::mknod((dir_ / "etc/zero").c_str(), S_IFCHR | 0644, ::makedev(1, 5)) != 0)
    GTEST_SKIP() << "mknod needs CAP_MKNOD";
  auto zero = root->ReadFile("/etc/zero");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("is a character device"), std::string::npos)
      << zero.error().message;
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
