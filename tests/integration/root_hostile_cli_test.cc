// The real binary on the hostile trees of issue 14 that reach Root: a copy of the H100 capture
// with one file changed into a link cycle or a FIFO, an empty root, a PCI device closed to the
// reader. Each run has a deadline and must end by itself with a documented exit code.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../unit/test_util.h"
#include "cli_run.h"

namespace dlrig {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::CliRun;

constexpr std::chrono::milliseconds kDeadline(60000);

std::string CaptureDir() { return std::string(DLRIG_CAPTURES_DIR) + "/h100-ubuntu2404-torch211"; }

// A writable copy of the H100 capture (its files are read-only), removed at the end.
class CaptureCopy {
 public:
  CaptureCopy() {
    dir_ = tree_.dir() / "t";
    CliRun cp = testing::RunCli({"cp", "-a", CaptureDir(), dir_.string()});
    EXPECT_EQ(cp.exit_code, 0) << cp.err;
  }
  ~CaptureCopy() { testing::RunCli({"chmod", "-R", "u+rwx", tree_.dir().string()}); }
  const fs::path& dir() const { return dir_; }
  // Replaces `rel` with `text` (the issue's `printf TEXT > FILE`).
  void Write(const std::string& rel, const std::string& text) const {
    Unlink(rel);
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  void Fifo(const std::string& rel) const {
    Unlink(rel);
    ASSERT_EQ(::mkfifo((dir_ / rel).c_str(), 0644), 0) << rel;
  }

 private:
  void Unlink(const std::string& rel) const {
    ::chmod((dir_ / rel).parent_path().c_str(), 0755);
    fs::remove(dir_ / rel);
  }
  testing::TempTree tree_;
  fs::path dir_;
};

// Runs dlrig under the deadline: a hang is a failure (exit_code -1, "timed out"), so is a
// signal (128 + signal).
CliRun Dlrig(std::vector<std::string> args) {
  args.insert(args.begin(), DLRIG_BINARY);
  CliRun run = testing::RunCli(args, kDeadline);
  EXPECT_NE(run.exit_code, -1) << "did not finish: " << run.err;
  EXPECT_LT(run.exit_code, 128) << "killed by signal " << run.exit_code - 128 << ": " << run.err;
  return run;
}

json Parse(const CliRun& run) {
  json doc = json::parse(run.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << run.out.substr(0, 300) << run.err;
  return doc;
}

// `printf cpuinfo/x > /tmp/t/proc/cpuinfo && dlrig doctor --root /tmp/t` was a segfault
// (ResolveImpl <-> FlattenedLink without end). Now /proc/cpuinfo is a link loop, unknown.
TEST(RootHostileCli, NineByteCpuinfoIsALinkLoopNotASegfault) {
  if (!fs::exists(CaptureDir())) GTEST_SKIP() << "capture not present";
  CaptureCopy t;
  t.Write("proc/cpuinfo", "cpuinfo/x");
  CliRun run = Dlrig({"doctor", "--json", "--root", t.dir().string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;  // the rest of the machine is the healthy capture
  json doc = Parse(run);
  EXPECT_EQ(doc["hardware"]["host"]["cpu"]["unavailable"], "symlink_loop");
  CliRun text = Dlrig({"doctor", "--root", t.dir().string()});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("too many levels of symbolic links"), std::string::npos);
}

// Two flattened links naming each other, on the path of a file every run reads.
TEST(RootHostileCli, FlattenedLinkCycleEnds) {
  if (!fs::exists(CaptureDir())) GTEST_SKIP() << "capture not present";
  CaptureCopy t;
  t.Write("etc/os-release", "os-release-b");
  t.Write("etc/os-release-b", "/etc/os-release");
  CliRun run = Dlrig({"doctor", "--json", "--root", t.dir().string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Parse(run)["hardware"]["host"]["os"]["unavailable"], "symlink_loop");
}

// A FIFO where dpkg's status, the kernel log or torch's main library belongs used to block
// doctor forever in Root::OpenFile. Each is now read as "is a FIFO".
TEST(RootHostileCli, FifosInsteadOfFilesDoNotHang) {
  if (!fs::exists(CaptureDir())) GTEST_SKIP() << "capture not present";
  const std::string torch_lib =
      "opt/torch/.venv/lib/python3.12/site-packages/torch/lib/libtorch_cuda.so";
  for (const std::string& rel : {std::string("var/lib/dpkg/status"),
                                 std::string("dmesg-nvidia.txt"), torch_lib}) {
    CaptureCopy t;
    t.Fifo(rel);
    auto start = std::chrono::steady_clock::now();
    CliRun run = Dlrig({"doctor", "--json", "--root", t.dir().string()});
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LE(run.exit_code, 2) << rel << ": " << run.err;
    EXPECT_NE(run.out.find("is a FIFO"), std::string::npos) << rel << ": the reason is lost";
    RecordProperty("seconds_" + fs::path(rel).filename().string(), std::to_string(s));
    if (rel == torch_lib) {
      // What torch would load is unknown, not missing.
      EXPECT_EQ(run.out.find("framework-cuda-library-missing"), std::string::npos) << rel;
    }
  }
}

// `--root` at an empty directory read nothing and said "no problems found", exit 0.
TEST(RootHostileCli, EmptyRootIsUnknownNotHealthy) {
  testing::TempTree t;
  CliRun run = Dlrig({"doctor", "--json", "--root", t.dir().string()});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  json doc = Parse(run);
  ASSERT_FALSE(doc["findings"].empty());
  EXPECT_EQ(doc["findings"][0]["id"], "machine-unreadable");
  EXPECT_TRUE(doc["summary"]["gpus"]["missing"].get<bool>());
  EXPECT_EQ(doc["summary"]["gpus"]["text"].get<std::string>().rfind("unknown: ", 0), 0u)
      << doc["summary"]["gpus"]["text"];
  CliRun text = Dlrig({"doctor", "--root", t.dir().string()});
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_EQ(text.out.find("no problems found"), std::string::npos) << text.out;
}

// A PCI device directory the reader may not open (chmod 000, doctor run as `nobody`) may hold
// the GPU: "no NVIDIA GPU on the PCI bus" is not an answer the tree supports.
TEST(RootHostileCli, ClosedPciDeviceIsUnknownNotNoGpu) {
  if (!fs::exists(CaptureDir())) GTEST_SKIP() << "capture not present";
  bool as_root = ::geteuid() == 0;
  if (as_root && ::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs setpriv as root";
  CaptureCopy t;
  ::chmod(t.dir().parent_path().c_str(), 0755);  // let `nobody` reach the copy
  ::chmod((t.dir() / "sys/bus/pci/devices/0000:00:06.0").c_str(), 0);
  std::vector<std::string> argv{DLRIG_BINARY, "doctor", "--json", "--root", t.dir().string()};
  if (as_root)
    argv.insert(argv.begin(),
                {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  CliRun run = testing::RunCli(argv, kDeadline);
  ASSERT_EQ(run.exit_code, 2) << run.err;
  json doc = Parse(run);
  EXPECT_EQ(doc["hardware"]["pci"]["unavailable"], "no_permission") << doc["hardware"]["pci"];
  EXPECT_EQ(doc["summary"]["gpus"]["text"].get<std::string>().find("no NVIDIA GPU"),
            std::string::npos);
  EXPECT_EQ(doc["findings"][0]["id"], "machine-unreadable");
}

}  // namespace
}  // namespace dlrig
