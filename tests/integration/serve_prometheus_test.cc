// `dlrig serve` end to end: the real binary on the fault-injection NVML, scraped by a real
// Prometheus server (Debian's `prometheus`), whose query API must return the values the fake
// NVML was configured with. Also: serving on without any NVML, and a clean stop on SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
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
#include "serve_run.h"

extern char** environ;

namespace dlrig {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

// A child process with stdout+stderr in a file; SIGTERM (then SIGKILL) when it goes away.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
          const fs::path& log)
      : log_(log) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    args.push_back(nullptr);
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() { Stop(); }
  bool started() const { return pid_ > 0; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  /// SIGTERM, up to `grace` to exit, then SIGKILL; the exit status (-1: killed or not started).
  int Stop(std::chrono::milliseconds grace = 5000ms) {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    auto until = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  fs::path log_;
};

// GET over a fresh connection: the whole answer, "" when nothing answered.
std::string HttpGet(int port, const std::string& target) { return testing::HttpGetOnce(port, target); }

std::string Body(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  socklen_t length = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  close(fd);
  return ntohs(a.sin_port);
}

std::string Which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((fs::path(dir) / name).c_str(), X_OK) == 0)
      return fs::path(dir) / name;
  return "";
}

// Starts `dlrig serve` on a free port; the port, or 0 (log in `process`).
int StartServe(std::unique_ptr<Process>& process, const testing::TempTree& tree,
               const std::vector<std::string>& env,
               const std::vector<std::string>& extra_args = {}) {
  std::vector<std::string> argv = {DLRIG_BINARY,  "serve",      "--listen",
                                   "127.0.0.1:0", "--interval", "1s"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process = std::make_unique<Process>(argv, env, tree.dir() / "serve.log");
  if (!process->started()) return 0;
  static const std::regex kListening(R"(listening on http://127\.0\.0\.1:(\d+)/)");
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until;) {
    std::smatch m;
    std::string log = process->Log();
    if (std::regex_search(log, m, kListening)) return std::stoi(m[1]);
    std::this_thread::sleep_for(50ms);
  }
  return 0;
}

// Prometheus's instant query; the `data.result` array (empty when nothing matched yet).
json Query(int port, const std::string& promql) {
  std::string escaped;
  for (unsigned char c : promql) {
    if (std::isalnum(c) || c == '_')
      escaped += static_cast<char>(c);
    else
      escaped += fmt::format("%{:02X}", c);
  }
  json doc = json::parse(Body(HttpGet(port, "/api/v1/query?query=" + escaped)), nullptr, false);
  if (doc.is_discarded() || doc.value("status", "") != "success") return json::array();
  return doc["data"]["result"];
}

const char* kFakeConfig =
    "driver_version=580.159.04\ncuda_version=13000\ndevice_count=2\n"
    "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.uuid=GPU-1e7c2b0a-serve-test\n"
    "gpu0.pci_bus_id=00000000:01:00.0\ngpu0.memory_total=85520809984\ngpu0.temperature=47\n"
    "gpu0.util_gpu=37\ngpu0.power=71234\n"
    "gpu1.name=NVIDIA H100 80GB HBM3\ngpu1.pci_bus_id=00000000:02:00.0\n"
    "gpu1.fail.nvmlDeviceGetTemperature=3\n";

TEST(ServePrometheus, RealPrometheusScrapesFakeNvmlValues) {
  std::string prometheus = Which("prometheus");
  if (prometheus.empty())
    GTEST_SKIP() << "the prometheus binary is not installed (Debian package `prometheus`; "
                    "scripts/install-deps.sh test installs it; CI has it)";
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFakeConfig);
  std::vector<std::string> env = {std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                                  "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string()};
  std::unique_ptr<Process> serve;
  int port = StartServe(serve, tree, env);
  ASSERT_NE(port, 0) << serve->Log();

  // Our own scrape first: the exporter answers before Prometheus is involved.
  std::string direct;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until &&
       direct.find("dlrig_gpu_info{") == std::string::npos;
       std::this_thread::sleep_for(100ms))
    direct = HttpGet(port, "/metrics");
  ASSERT_NE(direct.find("dlrig_gpu_info{"), std::string::npos) << direct << serve->Log();
  EXPECT_NE(direct.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);

  int prom_port = FreePort();
  tree.Write("prometheus.yml",
             fmt::format("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                         "scrape_configs:\n  - job_name: dlrig\n    static_configs:\n"
                         "      - targets: ['127.0.0.1:{}']\n",
                         port));
  Process prom({prometheus, "--config.file=" + (tree.dir() / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (tree.dir() / "data").string(),
                fmt::format("--web.listen-address=127.0.0.1:{}", prom_port)},
               {}, tree.dir() / "prometheus.log");
  ASSERT_TRUE(prom.started());

  json info;
  for (auto until = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < until && info.empty(); std::this_thread::sleep_for(500ms))
    info = Query(prom_port, "dlrig_gpu_info");
  ASSERT_EQ(info.size(), 2u) << info.dump() << "\n" << prom.Log();
  json gpu0;
  for (const auto& series : info)
    if (series["metric"]["gpu"] == "0") gpu0 = series;
  ASSERT_FALSE(gpu0.is_null()) << info.dump();
  EXPECT_EQ(gpu0["metric"]["uuid"], "GPU-1e7c2b0a-serve-test");
  EXPECT_EQ(gpu0["metric"]["name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpu0["metric"]["driver_version"], "580.159.04");
  EXPECT_EQ(gpu0["metric"]["job"], "dlrig");
  EXPECT_EQ(gpu0["value"][1], "1");

  json temperature = Query(prom_port, "dlrig_gpu_temperature_celsius");
  ASSERT_EQ(temperature.size(), 1u) << temperature.dump();  // GPU 1's is unsupported: absent
  EXPECT_EQ(temperature[0]["metric"]["gpu"], "0");
  EXPECT_EQ(temperature[0]["value"][1], "47");
  json memory = Query(prom_port, "dlrig_gpu_memory_total_bytes{gpu=\"0\"}");
  ASSERT_EQ(memory.size(), 1u) << memory.dump();
  EXPECT_EQ(memory[0]["value"][1], "85520809984");
  json up = Query(prom_port, "up{job=\"dlrig\"}");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]["value"][1], "1");

  EXPECT_EQ(serve->Stop(), 0) << serve->Log();  // SIGTERM stops it cleanly
  EXPECT_NE(serve->Log().find("stopping"), std::string::npos) << serve->Log();
}

TEST(ServePrometheus, DcgmNamingServesDcgmExporterNames) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFakeConfig);
  std::unique_ptr<Process> serve;
  int port = StartServe(serve, tree,
                        {std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                         "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string()},
                        {"--naming", "dcgm"});
  ASSERT_NE(port, 0) << serve->Log();
  std::string metrics;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until &&
       metrics.find("DCGM_FI_DEV_GPU_TEMP{") == std::string::npos;
       std::this_thread::sleep_for(100ms))
    metrics = Body(HttpGet(port, "/metrics"));
  EXPECT_NE(metrics.find("DCGM_FI_DEV_GPU_TEMP{gpu=\"0\",UUID=\"GPU-1e7c2b0a-serve-test\","
                         "pci_bus_id=\"00000000:01:00.0\",device=\"nvidia0\","
                         "modelName=\"NVIDIA H100 80GB HBM3\""),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("dlrig_gpu_info"), std::string::npos);
  json gpus = json::parse(Body(HttpGet(port, "/api/v1/gpus")), nullptr, false);
  ASSERT_FALSE(gpus.is_discarded());
  EXPECT_EQ(gpus["schema"], "dlrig.gpus/1");
  EXPECT_GE(gpus["sample"]["sequence"].get<int>(), 1);
  EXPECT_EQ(gpus["gpus"][0]["temperature_c"], 47);
  std::string page = HttpGet(port, "/");
  EXPECT_NE(page.find("text/html"), std::string::npos);
  EXPECT_NE(page.find("NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_TRUE(HttpGet(port, "/healthz").starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(HttpGet(port, "/nope").starts_with("HTTP/1.1 404"));
  EXPECT_EQ(serve->Stop(), 0);
}

TEST(ServePrometheus, WithoutNvmlItStillServesAndSaysWhy) {
  testing::TempTree tree;
  std::unique_ptr<Process> serve;
  int port = StartServe(serve, tree, {"DLRIG_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1"});
  ASSERT_NE(port, 0) << serve->Log();
  std::string metrics;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until &&
       metrics.find("dlrig_sampler_samples_total") == std::string::npos;
       std::this_thread::sleep_for(100ms))
    metrics = Body(HttpGet(port, "/metrics"));
  EXPECT_NE(metrics.find("dlrig_sampler_unavailable{reason=\"user-space driver layer"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("dlrig_gpu_up{"), std::string::npos);
  std::string page = Body(HttpGet(port, "/"));
  EXPECT_NE(page.find("dlrig doctor"), std::string::npos);
  EXPECT_EQ(serve->Stop(), 0);
  std::string log = serve->Log();
  EXPECT_NE(log.find("no GPU can be described"), std::string::npos) << log;
  EXPECT_NE(log.find("dlrig doctor"), std::string::npos);
  // Said once, not on every sample.
  size_t first = log.find("no GPU can be described");
  EXPECT_EQ(log.find("no GPU can be described", first + 1), std::string::npos) << log;
}

TEST(ServePrometheus, BadArgumentsAreUsageErrors) {
  SystemRunner runner;
  for (std::vector<std::string> args : {std::vector<std::string>{"--listen", "nohost:80"},
                                        {"--naming", "other"},
                                        {"--interval", "0s"}}) {
    std::vector<std::string> argv = {DLRIG_BINARY, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = runner.Run(argv, ExecOptions{std::chrono::milliseconds(20000), 1u << 20});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->exit_code, 64) << args[0] << r->err;
  }
}

}  // namespace
}  // namespace dlrig
