// The one writer: temporary beside the target, no link followed, only regular files replaced.
#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/tar.h"
#include "test_util.h"

namespace dlrig {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Every name in `dir` but the ones given.
std::vector<std::string> Others(const fs::path& dir, std::initializer_list<std::string> known) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (std::find(known.begin(), known.end(), name) == known.end()) out.push_back(name);
  }
  return out;
}

TEST(AtomicFile, ReplacesAnExistingRegularFileWithTheModeAsked) {
  testing::TempTree tree;
  tree.Write("out.svg", "old");
  struct stat old_st {};
  ASSERT_EQ(::stat((tree.dir() / "out.svg").c_str(), &old_st), 0);
  ASSERT_TRUE(WriteFileAtomically((tree.dir() / "out.svg").string(), "new", 0600));
  EXPECT_EQ(Slurp(tree.dir() / "out.svg"), "new");
  struct stat st {};
  ASSERT_EQ(::stat((tree.dir() / "out.svg").c_str(), &st), 0);
  EXPECT_NE(st.st_ino, old_st.st_ino);  // renamed over, not written into
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(Others(tree.dir(), {"out.svg"}).empty());
}

TEST(AtomicFile, RefusesALinkAndLeavesItsTargetAlone) {
  testing::TempTree tree;
  tree.Write("victim", "precious");
  tree.Link("victim", "out.svg");
  auto ok = WriteFileAtomically((tree.dir() / "out.svg").string(), "attack");
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("symbolic link"), std::string::npos) << ok.error().message;
  EXPECT_EQ(Slurp(tree.dir() / "victim"), "precious");
  EXPECT_TRUE(fs::is_symlink(tree.dir() / "out.svg"));
  EXPECT_TRUE(Others(tree.dir(), {"out.svg", "victim"}).empty());
}

TEST(AtomicFile, RefusesDevicesFifosAndDirectories) {
  testing::TempTree tree;
  ASSERT_EQ(::mkfifo((tree.dir() / "fifo").c_str(), 0644), 0);
  tree.Mkdir("dir");
  for (const auto& [path, what] : std::vector<std::pair<std::string, std::string>>{
           {"/dev/null", "character device"},
           {(tree.dir() / "fifo").string(), "FIFO"},
           {(tree.dir() / "dir").string(), "directory"}}) {
    auto ok = WriteFileAtomically(path, "x");
    ASSERT_FALSE(ok) << path;
    EXPECT_NE(ok.error().message.find(what), std::string::npos) << ok.error().message;
  }
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_TRUE(fs::is_fifo(tree.dir() / "fifo"));
  EXPECT_TRUE(Others(tree.dir(), {"fifo", "dir"}).empty());
}

TEST(AtomicFile, TemporaryNamesAreUnpredictableAndRemovedWhenNotCommitted) {
  testing::TempTree tree;
  std::string target = (tree.dir() / "x.tar.gz").string();
  std::string first, second;
  {
    auto a = AtomicFile::Create(target);
    auto b = AtomicFile::Create(target);
    ASSERT_TRUE(a && b);
    first = a->temp_path();
    second = b->temp_path();
    EXPECT_NE(first, second);
    EXPECT_EQ(fs::path(first).filename().string().find(std::to_string(::getpid())),
              std::string::npos);
    EXPECT_EQ(fs::path(first).parent_path(), tree.dir());
    ASSERT_TRUE(a->Write("half"));
  }
  EXPECT_FALSE(fs::exists(first));
  EXPECT_FALSE(fs::exists(second));
  EXPECT_FALSE(fs::exists(target));
}

TEST(AtomicFile, AFailedWriteLeavesTheTargetAndNoTemporary) {
  // A write that fails (as on a full disk) is made by closing the descriptor under the writer.
  testing::TempTree tree;
  tree.Write("out", "old");
  auto f = AtomicFile::Create((tree.dir() / "out").string());
  ASSERT_TRUE(f);
  std::string temp = f->temp_path();
  ::close(f->fd());
  EXPECT_FALSE(f->Write("new"));
  f->Discard();
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(Slurp(tree.dir() / "out"), "old");
}

// capture -o X.tar.gz used to open the fixed name X.tar.gz.tmp: a link planted there made a
// root capture overwrite whatever it pointed at.
TEST(TarWriter, ALinkPlantedAtTheOldTemporaryNameIsNeverWrittenThrough) {
  testing::TempTree tree;
  tree.Write("victim", "precious");
  tree.Link("victim", "cap.tar.gz.tmp");
  auto tar = TarWriter::Create((tree.dir() / "cap.tar.gz").string());
  ASSERT_TRUE(tar);
  ASSERT_TRUE(tar->AddFile("etc/os-release", "ID=ubuntu\n"));
  ASSERT_TRUE(tar->Finish());
  EXPECT_EQ(Slurp(tree.dir() / "victim"), "precious");
  EXPECT_TRUE(fs::is_symlink(tree.dir() / "cap.tar.gz.tmp"));
  EXPECT_TRUE(fs::is_regular_file(tree.dir() / "cap.tar.gz"));
  EXPECT_EQ(fs::status(tree.dir() / "cap.tar.gz").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);  // 0600: it holds machine data
  EXPECT_TRUE(Others(tree.dir(), {"victim", "cap.tar.gz.tmp", "cap.tar.gz"}).empty());
  SystemRunner runner;
  auto list = runner.Run({"tar", "tzf", (tree.dir() / "cap.tar.gz").string()},
                         ExecOptions{std::chrono::milliseconds(30000), 1u << 20});
  ASSERT_TRUE(list && list->exit_code == 0);
  EXPECT_EQ(list->out, "etc/os-release\n");
}

TEST(TarWriter, RefusesADeviceTarget) {
  auto tar = TarWriter::Create("/dev/null");
  ASSERT_FALSE(tar);
  EXPECT_NE(tar.error().message.find("character device"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(TarWriter, AnUnfinishedArchiveLeavesNothing) {
  testing::TempTree tree;
  {
    auto tar = TarWriter::Create((tree.dir() / "cap.tar.gz").string());
    ASSERT_TRUE(tar);
    ASSERT_TRUE(tar->AddFile("a", "b"));
  }
  EXPECT_TRUE(Others(tree.dir(), {}).empty());
}

}  // namespace
}  // namespace dlrig
