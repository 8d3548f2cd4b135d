// Who may write a history, and what a writer says when it cannot: real `dlrig history record`
// processes on the fault-injection NVML, several at once on one file, and on a file system
// that is full or read-only (a 256 KiB tmpfs, when this process may mount one).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "../unit/test_util.h"
#include "cli_run.h"

namespace dlrig {
namespace {

using testing::CliRun;

constexpr const char* kFake =
    "driver_version=580.159.04\ncuda_version=13000\ndevice_count=2\n"
    "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.uuid=GPU-11111111-2222-3333-4444-555555555555\n"
    "gpu0.pci_bus_id=00000000:01:00.0\ngpu0.temperature=47\n"
    "gpu1.name=NVIDIA H100 80GB HBM3\ngpu1.uuid=GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n"
    "gpu1.pci_bus_id=00000000:02:00.0\ngpu1.power=70000\n";

CliRun Record(const testing::TempTree& tree, const std::string& db, const std::string& duration) {
  return testing::RunCli({"env", std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                          "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string(),
                          DLRIG_BINARY, "history", "record", "--db", db, "--duration", duration,
                          "--interval", "200ms"});
}

CliRun Read(const std::string& db) {
  return testing::RunCli({DLRIG_BINARY, "history", "--db", db, "--json", "--since", "10m"});
}

// Six recorders started together on one file: one records, the other five wait for the lock
// (5 s) and then fail, naming the file and the recorder that holds it. Before, all six
// exited 0 and their samples of one GPU at one millisecond replaced each other.
TEST(HistoryWriters, OneRecorderPerFileTheOthersNameIt) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFake);
  std::string db = (tree.dir() / "h.db").string();
  constexpr int kWriters = 6;
  std::vector<CliRun> runs(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] { runs[i] = Record(tree, db, "8s"); });
  for (auto& t : threads) t.join();
  int recorded = 0, refused = 0;
  for (const CliRun& run : runs) {
    if (run.exit_code == 0) {
      ++recorded;
      continue;
    }
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find(db + " is locked by another writer (pid "), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find(": dlrig history record, recording since "), std::string::npos)
        << run.err;
    ++refused;
  }
  EXPECT_EQ(recorded, 1);
  EXPECT_EQ(refused, kWriters - 1);
  CliRun read = Read(db);
  ASSERT_EQ(read.exit_code, 0) << read.err;
  // Every sample of one recorder, 200 ms apart, for 8 s: about 40 per GPU, not 6 × 40.
  size_t samples = 0;
  for (size_t at = read.out.find("\"time_ms\""); at != std::string::npos;
       at = read.out.find("\"time_ms\"", at + 1))
    ++samples;
  EXPECT_GT(samples, 2u * 20);
  EXPECT_LT(samples, 2u * 60);

  // The lock goes with its holder: the next recorder records.
  CliRun next = Record(tree, db, "1s");
  EXPECT_EQ(next.exit_code, 0) << next.err;
}

// A 256 KiB tmpfs at `dir` (removed with the test), or the reason it cannot be made here.
// 64 KiB does not hold an empty history in WAL mode (its -shm alone is 32 KiB).
class TinyFs {
 public:
  explicit TinyFs(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=256k,mode=0755") != 0)
      why_not_ = std::string("mount -t tmpfs -o size=256k: ") + std::strerror(errno);
  }
  ~TinyFs() {
    if (why_not_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  const std::string& why_not() const { return why_not_; }
  // Writes until the file system has not one byte left (tmpfs counts whole pages).
  void Fill() const {
    int fd = ::open((dir_ / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::string block(4096, 'x');
    for (size_t chunk = block.size(); fd >= 0 && chunk > 0; chunk /= 2)
      while (::write(fd, block.data(), chunk) == static_cast<ssize_t>(chunk)) {
      }
    if (fd >= 0) ::close(fd);
  }
  // EBUSY while a process that wrote there (the recorder's last child) is still exiting:
  // tried again for up to 5 s.
  bool ReadOnly() const {
    for (int i = 0; i < 50; ++i) {
      if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=256k") == 0)
        return true;
      if (errno != EBUSY) return false;
      ::usleep(100 * 1000);
    }
    return false;
  }

 private:
  std::filesystem::path dir_;
  std::string why_not_;
};

// "disk I/O error while reading the schema" said nothing of the cause; now the path, "no
// space left" and what to do, for a new file and for one that fills up.
TEST(HistoryWriters, AFullFileSystemIsNamedAsFull) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFake);
  TinyFs fs(tree.dir() / "tiny");
  if (!fs.why_not().empty()) GTEST_SKIP() << fs.why_not();
  std::string grown = (tree.dir() / "tiny/grown.db").string();
  ASSERT_EQ(Record(tree, grown, "1s").exit_code, 0);  // a file that exists, then the disk fills
  fs.Fill();
  std::string fresh = (tree.dir() / "tiny/fresh.db").string();
  for (const std::string& db : {fresh, grown}) {
    CliRun run = Record(tree, db, "2s");
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find(db), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("no space left"), std::string::npos) << run.err;
    EXPECT_EQ(run.err.find("disk I/O error"), std::string::npos) << run.err;
  }
}

TEST(HistoryWriters, AReadOnlyFileSystemIsNamedAsReadOnly) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFake);
  TinyFs fs(tree.dir() / "tiny");
  if (!fs.why_not().empty()) GTEST_SKIP() << fs.why_not();
  std::string db = (tree.dir() / "tiny/h.db").string();
  ASSERT_EQ(Record(tree, db, "1s").exit_code, 0);
  ASSERT_TRUE(fs.ReadOnly()) << std::strerror(errno);
  for (const std::string& path : {db, (tree.dir() / "tiny/new/h.db").string()}) {
    CliRun run = Record(tree, path, "1s");
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find(path), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("ead-only file system"), std::string::npos) << run.err;
  }
  CliRun read = Read(db);  // reading still works
  EXPECT_EQ(read.exit_code, 0) << read.err;
}

// Without root, a directory the user may not write; root writes anywhere (tested above with a
// read-only mount instead).
TEST(HistoryWriters, AnUnwritableDirectoryIsNamed) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root writes anywhere: see AReadOnlyFileSystemIsNamedAsReadOnly";
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFake);
  tree.Mkdir("locked");
  std::filesystem::permissions(tree.dir() / "locked", std::filesystem::perms::owner_read |
                                                          std::filesystem::perms::owner_exec);
  std::string db = (tree.dir() / "locked/h.db").string();
  CliRun run = Record(tree, db, "1s");
  std::filesystem::permissions(tree.dir() / "locked", std::filesystem::perms::owner_all);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find(db), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("ermission denied"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace dlrig
