// The real binary, end to end: on the H100 capture (golden facts), on this machine, and on
// trees built to be hostile. Asserts facts in --json, never English.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "../unit/test_util.h"
#include "cli_run.h"
#include "core/exec.h"

namespace dlrig {
namespace {

using nlohmann::json;

using testing::CliRun;

CliRun Dlrig(std::vector<std::string> args) {
  args.insert(args.begin(), DLRIG_BINARY);
  return testing::RunCli(args);
}

json DoctorJson(std::vector<std::string> args) {
  args.insert(args.begin(), {"doctor", "--json"});
  CliRun run = Dlrig(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto doc = json::parse(run.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << run.out.substr(0, 500);
  return doc;
}

std::string CaptureDir() { return std::string(DLRIG_CAPTURES_DIR) + "/h100-ubuntu2404-torch211"; }

TEST(DoctorCli, H100CaptureGoldenHardware) {
  if (!std::filesystem::exists(CaptureDir())) GTEST_SKIP() << "capture not present";
  json doc = DoctorJson({"--root", CaptureDir()});
  EXPECT_EQ(doc["schema"], "dlrig.doctor/1");
  auto& pci = doc["hardware"]["pci"]["devices"];
  ASSERT_EQ(pci.size(), 1u);
  EXPECT_EQ(pci[0]["device_id"], "0x2330");
  EXPECT_EQ(pci[0]["driver"], "nvidia");
  EXPECT_EQ(pci[0]["link_now"]["speed_gts"], 32.0);
  EXPECT_EQ(pci[0]["link_now"]["width"], 16);
  EXPECT_EQ(doc["hardware"]["host"]["os"]["version_id"], "24.04");
  EXPECT_EQ(doc["shell"]["variables"]["CUDA_HOME"], "/usr/local/cuda");
}

TEST(DoctorCli, HumanReportHasEveryLayer) {
  if (!std::filesystem::exists(CaptureDir())) GTEST_SKIP() << "capture not present";
  CliRun run = Dlrig({"doctor", "--root", CaptureDir()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* layer : {"hardware", "kernel driver", "user-space driver", "toolkits",
                            "libraries", "python", "containers", "shell"})
    EXPECT_NE(run.out.find(std::string("\n") + layer + "\n"), std::string::npos) << layer;
  EXPECT_EQ(run.out.find("\033["), std::string::npos) << "colour on a pipe";
}

TEST(DoctorCli, ThisMachineRuns) {
  json doc = DoctorJson({});
  EXPECT_EQ(doc["root"], "/");
  EXPECT_TRUE(doc["hardware"]["host"]["cpu"].contains("threads"));
}

TEST(DoctorCli, UsageErrors) {
  EXPECT_EQ(Dlrig({"doctor", "--root", "/nonexistent/dir"}).exit_code, 64);
  EXPECT_EQ(Dlrig({"doctor", "--bogus"}).exit_code, 64);
  EXPECT_EQ(Dlrig({"nosuchcommand"}).exit_code, 64);
  EXPECT_EQ(Dlrig({}).exit_code, 64);
  CliRun help = Dlrig({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("doctor"), std::string::npos);
  EXPECT_NE(help.out.find("capture"), std::string::npos);
}

// A tree made to hurt: loops, broken links, garbage, a huge sparse file, 10,000 entries.
TEST(DoctorCli, HostileTreeGivesUnknownsNotCrashes) {
  testing::TempTree t;
  t.Link("b", "etc/a");
  t.Link("a", "etc/b");
  t.Link("/etc/a", "etc/os-release");
  t.Link("/nowhere", "proc/cpuinfo");
  t.Write("proc/meminfo", std::string("\0\0\xff garbage", 12));
  t.Write("proc/self/mountinfo", "not mountinfo at all\n");
  t.Write("etc/docker/daemon.json", "{\"runtimes\": [garbage");
  t.Link("../../devices/x", "sys/bus/pci/devices/0000:00:01.0");
  t.Link("/sys", "sys/loop");
  t.Write("environ.txt", "PATH=/usr/bin:/loop\nLD_LIBRARY_PATH=/nonexistent\nHOME=/root\n");
  t.Link("/loop", "loop");
  // 1 GB sparse file where a small text is expected.
  t.Write("proc/sys/kernel/osrelease", "");
  ASSERT_EQ(::truncate((t.dir() / "proc/sys/kernel/osrelease").c_str(), 1ll << 30), 0);
  std::string site = "usr/lib/python3/dist-packages/";
  t.Mkdir(site);
  for (int i = 0; i < 10000; ++i) t.Write(site + "pkg" + std::to_string(i) + "-1.0.dist-info/METADATA", "");
  t.Write("root/.bashrc", std::string(3u << 20, '#'));
  // The only PCI device is a dangling link: whether there is a GPU is unknown, an error
  // (machine-unreadable, exit 2), never "healthy".
  CliRun run = Dlrig({"doctor", "--json", "--root", t.dir().string()});
  ASSERT_EQ(run.exit_code, 2) << run.err;
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["findings"][0]["id"], "machine-unreadable");
  EXPECT_EQ(doc["hardware"]["host"]["os"]["unavailable"], "symlink_loop");
  EXPECT_EQ(doc["hardware"]["host"]["cpu"]["unavailable"], "not_found");
  EXPECT_EQ(doc["hardware"]["host"]["kernel"]["unavailable"], "too_large");
  EXPECT_EQ(doc["hardware"]["host"]["memory"]["unavailable"], "malformed");
  EXPECT_EQ(doc["containers"]["daemon_json"]["unavailable"], "malformed");
  CliRun text = Dlrig({"doctor", "--root", t.dir().string()});
  EXPECT_EQ(text.exit_code, 2) << text.err;
}

// Permission errors are kept apart from absence. Root reads everything, so the binary runs
// as `nobody` (setpriv) against a tree with closed directories and files.
TEST(DoctorCli, UnreadableFilesAreNoPermission) {
  bool as_root = ::geteuid() == 0;
  if (as_root && ::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs setpriv as root";
  testing::TempTree t;
  t.Write("etc/os-release", "ID=debian\n");
  t.Write("proc/cpuinfo", "processor : 0\n");
  t.Mkdir("opt/conda/envs/locked/conda-meta");
  t.Write("root/.conda/environments.txt", "/opt/conda/envs/locked\n");
  t.Write("environ.txt", "HOME=/root\nPATH=/usr/bin\n");
  ::chmod((t.dir() / "etc/os-release").c_str(), 0);
  ::chmod((t.dir() / "proc/cpuinfo").c_str(), 0);
  ::chmod((t.dir() / "opt/conda/envs/locked").c_str(), 0);
  ::chmod(t.dir().c_str(), 0755);
  std::vector<std::string> argv{"doctor", "--json", "--root", t.dir().string()};
  CliRun run;
  if (as_root) {
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", DLRIG_BINARY});
    SystemRunner runner;
    auto r = runner.Run(argv, ExecOptions{std::chrono::milliseconds(60000), 64u << 20});
    ASSERT_TRUE(r) << r.error().message;
    run = {r->exit_code, r->out, r->err};
  } else {
    run = Dlrig(argv);
  }
  ASSERT_EQ(run.exit_code, 2) << run.err;  // no /sys: machine-unreadable
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << run.out.substr(0, 300);
  EXPECT_EQ(doc["hardware"]["host"]["os"]["unavailable"], "no_permission");
  EXPECT_EQ(doc["hardware"]["host"]["cpu"]["unavailable"], "no_permission");
  // The listed conda env we may not enter is reported, not silently dropped.
  auto& envs = doc["python"]["environments"];
  ASSERT_EQ(envs.size(), 1u);
  EXPECT_EQ(envs[0]["prefix"], "/opt/conda/envs/locked");
  EXPECT_EQ(envs[0]["python_version"]["unavailable"], "no_permission");
}

// On a machine without an NVIDIA driver (this one, and CI), doctor says so plainly.
TEST(DoctorCli, MachineWithoutDriverSaysSo) {
  if (std::filesystem::exists("/proc/driver/nvidia/version")) GTEST_SKIP() << "a driver is loaded";
  json doc = DoctorJson({});
  EXPECT_TRUE(doc["summary"]["driver"]["missing"].get<bool>());
  EXPECT_NE(doc["summary"]["driver"]["text"].get<std::string>().find("no NVIDIA kernel driver"),
            std::string::npos);
  EXPECT_EQ(doc["kernel_driver"]["proc_version"]["unavailable"], "not_found");
  EXPECT_TRUE(doc["user_driver"]["dlopen"]["nvml"].contains("calls"));
  bool has_nvidia_gpu = false;
  for (auto& d : doc["hardware"]["pci"]["devices"]) has_nvidia_gpu |= d["kind"] == "gpu";
  if (!has_nvidia_gpu) {
    EXPECT_TRUE(doc["summary"]["gpus"]["missing"].get<bool>());
  }
}

TEST(DoctorCli, CaptureRoundTrip) {
  testing::TempTree t;
  std::string archive = (t.dir() / "cap.tar.gz").string();
  CliRun cap = Dlrig({"capture", "-o", archive, "--no-dlopen"});
  ASSERT_EQ(cap.exit_code, 0) << cap.err;
  std::filesystem::create_directories(t.dir() / "tree");
  SystemRunner runner;
  auto untar = runner.Run({"tar", "xzf", archive, "-C", (t.dir() / "tree").string()},
                          ExecOptions{std::chrono::milliseconds(60000), 1u << 20});
  ASSERT_TRUE(untar && untar->exit_code == 0) << (untar ? untar->err : untar.error().message);
  json live = testing::WithoutReasons(DoctorJson({"--no-dlopen"}));
  json replay = testing::WithoutReasons(DoctorJson({"--root", (t.dir() / "tree").string()}));
  // What was read here reads the same from the capture.
  EXPECT_EQ(replay["hardware"]["host"]["os"], live["hardware"]["host"]["os"]);
  EXPECT_EQ(replay["hardware"]["host"]["kernel"], live["hardware"]["host"]["kernel"]);
  EXPECT_EQ(replay["hardware"]["host"]["cpu"], live["hardware"]["host"]["cpu"]);
  EXPECT_EQ(replay["hardware"]["pci"]["devices"], live["hardware"]["pci"]["devices"]);
  // Every layer read from files replays identically; what came from running programs
  // (gcc, cmake) or loading the driver (dlopen) is absent from a capture by design.
  for (const char* layer : {"kernel_driver", "toolkits", "libraries", "python"})
    EXPECT_EQ(replay[layer], live[layer]) << layer;
  EXPECT_EQ(replay["user_driver"]["files"], live["user_driver"]["files"]);
  EXPECT_EQ(replay["user_driver"]["loader_picks"], live["user_driver"]["loader_picks"]);
  for (const char* key : {"variables", "path", "ld_library_path", "startup_lines"})
    EXPECT_EQ(replay["shell"][key], live["shell"][key]) << key;
  EXPECT_EQ(replay["containers"]["cdi_specs"], live["containers"]["cdi_specs"]);
  EXPECT_TRUE(std::filesystem::exists(t.dir() / "tree/doctor.json"));
  // Only the variables dlrig reads are saved.
  std::ifstream env(t.dir() / "tree/environ.txt");
  std::string line;
  while (std::getline(env, line)) EXPECT_EQ(line.find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace dlrig

namespace dlrig {
namespace {

// docs/findings/ID.md is what `dlrig explain --markdown ID` prints (scripts/gen-finding-docs.sh).
TEST(DoctorCli, FindingDocsMatchTheCatalogue) {
  CliRun list = Dlrig({"explain", "--list"});
  ASSERT_EQ(list.exit_code, 0);
  std::istringstream lines(list.out);
  std::string line;
  int pages = 0;
  while (std::getline(lines, line)) {
    std::string id = line.substr(0, line.find(' '));
    std::ifstream page(std::string(DLRIG_SOURCE_DIR) + "/docs/findings/" + id + ".md");
    ASSERT_TRUE(page) << "no docs/findings/" << id << ".md: run scripts/gen-finding-docs.sh";
    std::string text((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, Dlrig({"explain", "--markdown", id}).out) << id;
    ++pages;
  }
  EXPECT_GE(pages, 20);
}

TEST(DoctorCli, KbListsEveryBuiltInTable) {
  CliRun kb = Dlrig({"kb"});
  ASSERT_EQ(kb.exit_code, 0) << kb.err;
  for (auto& entry : std::filesystem::directory_iterator(std::string(DLRIG_SOURCE_DIR) + "/data"))
    EXPECT_NE(kb.out.find(entry.path().filename().string()), std::string::npos)
        << entry.path().filename();
}

TEST(DoctorCli, KbDirReplacesBuiltInTables) {
  std::ifstream in(std::string(DLRIG_SOURCE_DIR) + "/data/findings.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string findings = text.str();
  const std::string title = "title = \"GPU {address} is owned by";
  size_t at = findings.find(title);
  ASSERT_NE(at, std::string::npos) << "nouveau entry title changed; update this test";
  findings.insert(at + 9, "LOCAL KB: ");
  testing::TempTree kb;
  kb.Write("findings.toml", findings);
  testing::TempTree t;
  t.Write("sys/bus/pci/devices/0000:01:00.0/vendor", "0x10de\n");
  t.Write("sys/bus/pci/devices/0000:01:00.0/class", "0x030000\n");
  t.Write("sys/bus/pci/devices/0000:01:00.0/driver.name", "nouveau\n");
  CliRun run = Dlrig({"--kb", kb.dir().string(), "doctor", "--json", "--root", t.dir().string()});
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << run.err;
  EXPECT_EQ(doc["findings"][0]["title"].get<std::string>().rfind("LOCAL KB: ", 0), 0u);

  CliRun listing = Dlrig({"kb", "--kb=" + kb.dir().string()});
  EXPECT_NE(listing.out.find(kb.dir().string() + "/findings.toml"), std::string::npos);
  EXPECT_NE(listing.out.find("built in"), std::string::npos);  // the other tables

  kb.Write("finding.toml", "x = 1\n");  // a typo is refused, not ignored
  CliRun typo = Dlrig({"--kb", kb.dir().string(), "kb"});
  EXPECT_EQ(typo.exit_code, 64);
  EXPECT_NE(typo.err.find("finding.toml"), std::string::npos);
}

TEST(DoctorCli, ExitCodeFollowsTheFindings) {
  testing::TempTree t;  // a GPU whose driver is nouveau: an error at the root
  t.Write("sys/bus/pci/devices/0000:01:00.0/vendor", "0x10de\n");
  t.Write("sys/bus/pci/devices/0000:01:00.0/class", "0x030000\n");
  t.Write("sys/bus/pci/devices/0000:01:00.0/driver.name", "nouveau\n");
  CliRun run = Dlrig({"doctor", "--json", "--root", t.dir().string()});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_FALSE(doc["findings"].empty());
  EXPECT_EQ(doc["findings"][0]["id"], "nouveau-or-nova-bound");
  EXPECT_EQ(doc["findings"][0]["caused_by"], nullptr);
}

}  // namespace
}  // namespace dlrig
