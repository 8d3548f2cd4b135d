// What dlrig writes and prints, end to end with the real binary: --json carries any byte
// string (issue 14: one non-UTF-8 byte ended every --json with exit 70 and nothing on stdout),
// GPU processes show no arguments unless --show-commands, and capture neither writes through
// a planted link nor replaces a device node nor copies a token out of ~/.bashrc.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "../unit/test_util.h"
#include "cli_run.h"
#include "serve_run.h"

extern char** environ;

namespace dlrig {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CliRun;
namespace fs = std::filesystem;

constexpr const char* kToken = "hf_PlantedTokenAbCdEfGhIjKlMnOpQrStUv";

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// `dlrig ARGS` with extra environment (NAME=value entries).
CliRun Dlrig(const std::vector<std::string>& env, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(DLRIG_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCli(argv);
}

/// The document, checked to be what a strict parser reads, with its invalid_utf8 list.
json StrictJson(const CliRun& run) {
  EXPECT_NE(run.exit_code, 70) << run.err;
  EXPECT_FALSE(run.out.empty()) << run.err;
  return json::parse(run.out, nullptr, false);
}

bool Lists(const json& doc, const std::string& hex_part) {
  if (!doc.contains("invalid_utf8")) return false;
  for (const auto& e : doc["invalid_utf8"]) {
    std::string hex = e.value("hex", e.value("key_hex", ""));
    if (hex.find(hex_part) != std::string::npos) {
      // The pointer leads to the string, its bad bytes shown as U+FFFD.
      auto at = json::json_pointer(e["pointer"].get<std::string>());
      if (e.contains("hex") && doc.contains(at) && doc.at(at).is_string()) return true;
      if (e.contains("key_hex")) return true;
    }
  }
  return false;
}

TEST(JsonBytes, DoctorWithALatin1LdLibraryPathAndPath) {
  CliRun run = Dlrig({"LD_LIBRARY_PATH=/opt/\xff/lib", "PATH=/usr/bin:/bin:/opt/caf\xe9/bin"},
                     {"doctor", "--json", "--no-dlopen"});
  json doc = StrictJson(run);
  ASSERT_FALSE(doc.is_discarded()) << run.out.substr(0, 300) << run.err;
  EXPECT_EQ(doc["schema"], "dlrig.doctor/1");
  EXPECT_TRUE(Lists(doc, "2f6f70742fff2f6c6962")) << doc["invalid_utf8"].dump();  // /opt/\xff/lib
  EXPECT_TRUE(Lists(doc, "636166e9")) << doc["invalid_utf8"].dump();              // caf\xe9
  EXPECT_NE(run.out.find("/opt/\xEF\xBF\xBD/lib"), std::string::npos);
}

TEST(JsonBytes, DoctorUnderARootWithBytesInOsReleaseAndALibraryName) {
  testing::TempTree tree;
  tree.Write("etc/os-release", "NAME=\"Caf\xe9 Linux\"\nID=cafe\nVERSION_ID=\"1\xff\"\n");
  tree.Write("usr/lib/x86_64-linux-gnu/libcuda.so.580.\xfe\x01", "");
  tree.Link("libcuda.so.580.\xfe\x01", "usr/lib/x86_64-linux-gnu/libcuda.so.1");
  CliRun run = Dlrig({}, {"doctor", "--json", "--no-dlopen", "--root", tree.dir().string()});
  json doc = StrictJson(run);
  ASSERT_FALSE(doc.is_discarded()) << run.out.substr(0, 300) << run.err;
  EXPECT_TRUE(Lists(doc, "e9")) << doc.value("invalid_utf8", json()).dump();
  EXPECT_TRUE(Lists(doc, "fe")) << doc.value("invalid_utf8", json()).dump();
  // check and plan --json go through the same writer.
  CliRun plan = Dlrig({}, {"plan", "--offline", "--json", "--root", tree.dir().string()});
  EXPECT_NE(plan.exit_code, 70) << plan.err;
}

/// A process that stays up with secret and non-UTF-8 arguments (killed at the end).
class ArgvProcess {
 public:
  ArgvProcess() {
    std::vector<std::string> argv = {"/usr/bin/python3", "-c", "import time; time.sleep(60)",
                                     std::string("--hf-token=") + kToken, "caf\xe9"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
    // Wait until its cmdline is the python one (after exec).
    for (int i = 0; i < 100 && pid_ > 0; ++i) {
      if (Slurp("/proc/" + std::to_string(pid_) + "/cmdline").find("--hf-token") !=
          std::string::npos)
        break;
      std::this_thread::sleep_for(20ms);
    }
  }
  ~ArgvProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::string FakeNvml(const testing::TempTree& tree, pid_t pid) {
  tree.Write("fake-nvml.conf",
             "driver_version=580.159.04\ncuda_version=13000\ndevice_count=1\n"
             "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.pci_bus_id=00000000:01:00.0\n"
             "gpu0.processes=" +
                 std::to_string(pid) + ":1048576\n");
  return (tree.dir() / "fake-nvml.conf").string();
}

TEST(ProcessCommands, GpusShowsTheProgramNameUnlessAsked) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  testing::TempTree tree;
  ArgvProcess process;
  ASSERT_GT(process.pid(), 0);
  std::vector<std::string> env = {std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                                  "DLRIG_FAKE_NVML=" + FakeNvml(tree, process.pid())};
  CliRun run = Dlrig(env, {"gpus", "--json"});
  json doc = StrictJson(run);
  ASSERT_FALSE(doc.is_discarded()) << run.out << run.err;
  ASSERT_EQ(doc["gpus"][0]["processes"].size(), 1u) << run.out;
  EXPECT_EQ(doc["gpus"][0]["processes"][0]["command"], "python3");
  EXPECT_EQ(run.out.find("hf_"), std::string::npos);
  CliRun text = Dlrig(env, {"gpus"});
  EXPECT_EQ(text.out.find("hf_"), std::string::npos) << text.out;

  CliRun full = Dlrig(env, {"gpus", "--json", "--show-commands"});
  json all = StrictJson(full);
  ASSERT_FALSE(all.is_discarded()) << full.out << full.err;
  std::string command = all["gpus"][0]["processes"][0]["command"];
  EXPECT_NE(command.find(kToken), std::string::npos) << command;
  EXPECT_NE(command.find("caf\xEF\xBF\xBD"), std::string::npos) << command;
  EXPECT_TRUE(Lists(all, "636166e9")) << all.value("invalid_utf8", json()).dump();
}

// The body of a GET over a fresh connection; "" when nothing answered.
std::string HttpGet(int port, const std::string& target) {
  std::string out = testing::HttpGetOnce(port, target);
  size_t body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

/// serve's /api/v1/gpus once a sample lists the process ("" when it never did).
std::string ServeGpus(const std::vector<std::string>& env, const fs::path& log,
                      const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {DLRIG_BINARY, "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> args, envp;
  for (auto& a : argv) args.push_back(a.data());
  for (auto& e : envs) envp.push_back(e.data());
  args.push_back(nullptr);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data()) != 0) return "";
  posix_spawn_file_actions_destroy(&actions);
  std::string body;
  static const std::regex kListening(R"(listening on http://127\.0\.0\.1:(\d+)/)");
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(100ms)) {
    std::smatch m;
    std::string text = Slurp(log);
    if (!std::regex_search(text, m, kListening)) continue;
    body = HttpGet(std::stoi(m[1]), "/api/v1/gpus");
    if (body.find("\"command\"") != std::string::npos) break;
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return body;
}

TEST(ProcessCommands, ServeNeverPublishesArgumentsUnlessStartedWithShowCommands) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  testing::TempTree tree;
  ArgvProcess process;
  ASSERT_GT(process.pid(), 0);
  std::vector<std::string> env = {std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                                  "DLRIG_FAKE_NVML=" + FakeNvml(tree, process.pid())};
  std::string body = ServeGpus(env, tree.dir() / "serve.log", {});
  json doc = json::parse(body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << body << Slurp(tree.dir() / "serve.log");
  EXPECT_EQ(doc["gpus"][0]["processes"][0]["command"], "python3") << body;
  EXPECT_EQ(body.find("hf_"), std::string::npos);
  std::string full = ServeGpus(env, tree.dir() / "serve2.log", {"--show-commands"});
  EXPECT_NE(full.find(kToken), std::string::npos) << full;
}

/// `dlrig capture -o OUT` with HOME=home; the run.
CliRun Capture(const fs::path& home, const std::string& out) {
  return Dlrig({"HOME=" + home.string()}, {"capture", "--no-dlopen", "-o", out});
}

std::string Untar(const fs::path& archive, const fs::path& into) {
  fs::create_directories(into);
  CliRun run = testing::RunCli({"tar", "xzf", archive.string(), "-C", into.string()});
  return run.exit_code == 0 ? "" : run.err;
}

TEST(CaptureOutput, TokensInShellStartupFilesStayOnTheMachine) {
  testing::TempTree tree;
  tree.Write("home/.bashrc",
             "export PATH=/usr/local/cuda/bin:$PATH\n"
             "export CUDA_HOME=/usr/local/cuda\n"
             "export HF_TOKEN=" +
                 std::string(kToken) +
                 "\n"
                 "alias up='hub --token " +
                 kToken + "'\n");
  fs::path out = tree.dir() / "cap.tar.gz";
  CliRun run = Capture(tree.dir() / "home", out.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_EQ(Untar(out, tree.dir() / "x"), "");
  fs::path bashrc = tree.dir() / "x" / fs::relative(tree.dir() / "home/.bashrc", "/");
  ASSERT_TRUE(fs::exists(bashrc)) << bashrc;
  std::string copied = Slurp(bashrc);
  EXPECT_NE(copied.find("export CUDA_HOME=/usr/local/cuda\n"), std::string::npos) << copied;
  EXPECT_NE(copied.find("export HF_TOKEN=<redacted>\n"), std::string::npos) << copied;
  // Nowhere in the archive, compressed or not.
  CliRun all = testing::RunCli({"sh", "-c", "zcat '" + out.string() + "' | grep -c " + kToken});
  EXPECT_EQ(all.out, "0\n") << "the token is in the archive";
}

// capture -o X.tar.gz wrote X.tar.gz.tmp through whatever link was planted there.
TEST(CaptureOutput, APlantedLinkAtTheOldTemporaryNameIsUntouched) {
  testing::TempTree tree;
  tree.Write("victim", "precious");
  tree.Mkdir("home");
  fs::path out = tree.dir() / "cap.tar.gz";
  tree.Link((tree.dir() / "victim").string(), "cap.tar.gz.tmp");
  CliRun run = Capture(tree.dir() / "home", out.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Slurp(tree.dir() / "victim"), "precious");
  EXPECT_TRUE(fs::is_symlink(tree.dir() / "cap.tar.gz.tmp"));
  EXPECT_EQ(Untar(out, tree.dir() / "x"), "");
}

// capture -o /dev/full as root replaced the device node; a FIFO, a device node and a link as
// the target are refused with a message, and left as they were.
TEST(CaptureOutput, ATargetThatIsNotARegularFileIsRefused) {
  testing::TempTree tree;
  tree.Mkdir("home");
  tree.Write("victim", "precious");
  tree.Link((tree.dir() / "victim").string(), "link.tar.gz");
  ASSERT_EQ(::mkfifo((tree.dir() / "fifo.tar.gz").c_str(), 0644), 0);
  bool node = ::mknod((tree.dir() / "null.tar.gz").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
  for (const char* name : {"link.tar.gz", "fifo.tar.gz", "null.tar.gz"}) {
    if (std::string(name) == "null.tar.gz" && !node) continue;  // mknod needs root
    CliRun run = Capture(tree.dir() / "home", (tree.dir() / name).string());
    EXPECT_EQ(run.exit_code, 2) << name << run.err;
    EXPECT_NE(run.err.find("refusing to write"), std::string::npos) << run.err;
  }
  EXPECT_EQ(Slurp(tree.dir() / "victim"), "precious");
  EXPECT_TRUE(fs::is_symlink(tree.dir() / "link.tar.gz"));
  EXPECT_TRUE(fs::is_fifo(tree.dir() / "fifo.tar.gz"));
  if (node) {
    EXPECT_TRUE(fs::is_character_file(tree.dir() / "null.tar.gz"));
  }
  // Nothing else left behind.
  for (const auto& e : fs::directory_iterator(tree.dir()))
    EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
}

TEST(CaptureOutput, AnExistingArchiveIsReplaced) {
  testing::TempTree tree;
  tree.Mkdir("home");
  tree.Write("cap.tar.gz", "old");
  CliRun run = Capture(tree.dir() / "home", (tree.dir() / "cap.tar.gz").string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Untar(tree.dir() / "cap.tar.gz", tree.dir() / "x"), "");
}

// bench --html goes through the same writer: a link at the page's name is refused (the results
// still reach stdout first), the file it points at is untouched, and nothing is left behind.
TEST(BenchHtml, ALinkAtThePageIsRefused) {
  testing::TempTree tree;
  tree.Write("victim", "precious");
  tree.Link((tree.dir() / "victim").string(), "page.html");
  CliRun run = Dlrig({}, {"bench", "--backend", "null", "--quick", "--no-history", "--html",
                          (tree.dir() / "page.html").string(), "memory"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("refusing to write"), std::string::npos) << run.err;
  EXPECT_FALSE(run.out.empty());
  EXPECT_EQ(Slurp(tree.dir() / "victim"), "precious");
  for (const auto& e : fs::directory_iterator(tree.dir()))
    EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
}

}  // namespace
}  // namespace dlrig
