// `dlrig serve` under attack, end to end on the fault-injection NVML (issue 14): scrapes are
// served while hundreds of idle and slowloris connections are held (one peer over its cap),
// and a sampler child wedged in NVML holds no socket of serve's, so the port is free again as
// soon as serve is gone. scripts/serve-attack.py measures the same at full size.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>

#include "../unit/test_util.h"
#include "serve_run.h"

namespace dlrig {
namespace {

using namespace std::chrono_literals;
using testing::ConnectLoopback;
using testing::HttpGetOnce;
using testing::ServeProcess;
namespace fs = std::filesystem;

const char* kTwoGpus =
    "driver_version=580.159.04\ncuda_version=13000\ndevice_count=2\n"
    "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.temperature=47\ngpu1.name=NVIDIA H100 80GB HBM3\n";

std::vector<std::string> FakeNvmlEnv(const testing::TempTree& tree) {
  return {std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
          "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string()};
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes whose environment holds `marker` (serve and the children it forked, also once
// they are orphans), other than this one.
std::vector<pid_t> ProcessesWith(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == getpid()) continue;
    std::string environ_text = ReadAll(entry.path() / "environ");
    std::string stat = ReadAll(entry.path() / "stat");
    size_t state = stat.rfind(") ");
    if (environ_text.find(marker) != std::string::npos && state != std::string::npos &&
        stat.compare(state + 2, 1, "Z") != 0)
      found.push_back(pid);
  }
  return found;
}

// The inodes of every TCP socket on this machine (/proc/net/tcp and tcp6).
std::set<std::string> TcpSocketInodes() {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::stringstream lines(ReadAll(table));
    std::string line;
    std::getline(lines, line);  // the column names
    while (std::getline(lines, line)) {
      std::stringstream fields(line);
      std::string field;
      for (int i = 0; i < 10 && fields >> field; ++i) {
      }
      inodes.insert(field);  // the tenth column
    }
  }
  return inodes;
}

// What `pid` holds of them: "socket:[inode]" for each TCP socket among its descriptors.
std::vector<std::string> TcpSocketsHeldBy(pid_t pid) {
  std::set<std::string> tcp = TcpSocketInodes();
  std::vector<std::string> held;
  fs::path dir = fs::path("/proc") / std::to_string(pid) / "fd";
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator(dir, ec)) {
    std::string target = fs::read_symlink(fd.path(), ec).string();
    if (target.starts_with("socket:[") && tcp.count(target.substr(8, target.size() - 9)))
      held.push_back(fd.path().filename().string() + " -> " + target);
  }
  return held;
}

TEST(ServeAttack, ScrapesAreServedWhileIdleAndSlowlorisConnectionsAreHeld) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kTwoGpus);
  ServeProcess serve(FakeNvmlEnv(tree), tree.dir() / "serve.log");
  ASSERT_NE(serve.port(), 0) << serve.Log();
  std::string first;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until &&
       first.find("dlrig_gpu_info{") == std::string::npos;
       std::this_thread::sleep_for(50ms))
    first = HttpGetOnce(serve.port(), "/metrics");
  ASSERT_NE(first.find("dlrig_gpu_info{"), std::string::npos) << first << serve.Log();

  // 220 connections that send nothing and 50 that send a request a byte at a time: 270 from
  // this one peer, over the server's per-peer cap (256) and four times the old table (64).
  std::vector<int> idle, slow;
  for (int i = 0; i < 220; ++i) idle.push_back(ConnectLoopback(serve.port()));
  const std::string partial = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 50; ++i) {
    slow.push_back(ConnectLoopback(serve.port()));
    send(slow.back(), partial.data(), partial.size(), MSG_NOSIGNAL);
  }
  EXPECT_EQ(std::count(idle.begin(), idle.end(), -1) + std::count(slow.begin(), slow.end(), -1), 0);
  static const char kDrip[] = "X-Slow: 1\r\n";
  std::atomic<bool> done{false};
  std::thread drip([&] {
    for (int n = 0; !done; ++n, std::this_thread::sleep_for(300ms))
      for (int fd : slow) send(fd, &kDrip[n % 11], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  });
  std::this_thread::sleep_for(300ms);  // all of them accepted and waiting

  int served = 0;
  std::string failed;
  for (int i = 0; i < 20; ++i) {
    auto started = std::chrono::steady_clock::now();
    std::string r = HttpGetOnce(serve.port(), "/metrics", 2000ms);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (r.starts_with("HTTP/1.1 200") && r.find("dlrig_gpu_info{") != std::string::npos)
      ++served;
    else
      failed += fmt::format("scrape {} after {} ms: '{}'\n", i, took.count(), r.substr(0, 80));
    std::this_thread::sleep_for(50ms);
  }
  done = true;
  drip.join();
  EXPECT_EQ(served, 20) << failed << serve.Log();

  // The older of the peer's connections made room for the newer: the first ones were closed.
  pollfd p{idle.front(), POLLIN, 0};
  char byte;
  EXPECT_TRUE(poll(&p, 1, 0) == 1 && recv(idle.front(), &byte, 1, MSG_DONTWAIT) <= 0);
  for (int fd : idle) close(fd);
  for (int fd : slow) close(fd);
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
}

TEST(ServeAttack, WedgedNvmlChildHoldsNoSocketAndFreesThePort) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", "hang_in_init=1\n");  // every child hangs in nvmlInit
  std::string marker = "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string();
  // The first sample waits out the 5 s deadline before serve listens; the sampler thread
  // then starts the next child at once, which hangs the same way.
  ServeProcess serve(FakeNvmlEnv(tree), tree.dir() / "serve.log", {}, 30s);
  ASSERT_NE(serve.port(), 0) << serve.Log();
  int client = ConnectLoopback(serve.port());  // a client connection exists too
  ASSERT_GE(client, 0);

  std::vector<pid_t> children;
  for (auto until = std::chrono::steady_clock::now() + 3s;
       children.empty() && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms))
    for (pid_t pid : ProcessesWith(marker))
      if (pid != serve.pid()) children.push_back(pid);
  ASSERT_FALSE(children.empty()) << "no sampler child found\n" << serve.Log();
  EXPECT_FALSE(TcpSocketsHeldBy(serve.pid()).empty()) << "the check sees serve's own sockets";
  for (pid_t child : children)
    EXPECT_EQ(TcpSocketsHeldBy(child), std::vector<std::string>{}) << "child " << child;

  // serve killed outright: its wedged child lives on, and must not keep the port.
  serve.Stop(SIGKILL);
  std::vector<pid_t> orphans = ProcessesWith(marker);
  EXPECT_FALSE(orphans.empty()) << "the wedged child should outlive serve";
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(serve.port()));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bool bound = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 1) == 0;
  std::string why = bound ? "" : std::strerror(errno);
  close(fd);
  close(client);
  for (pid_t orphan : orphans) kill(orphan, SIGKILL);
  EXPECT_TRUE(bound) << "port " << serve.port() << " still held after serve died: " << why;
}

}  // namespace
}  // namespace dlrig
