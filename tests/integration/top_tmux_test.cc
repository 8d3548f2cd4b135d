// `dlrig top` for real in a detached tmux pane of exactly 80x24, on the fault-injection NVML:
// the live screen shows the configured GPU and the process table uncut, marks a GPU lost
// mid-run, quits on q; then `--once` prints its frame in the same pane.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "../unit/test_util.h"
#include "core/exec.h"
#include "core/strings.h"
#include "monitor/display_width.h"

namespace dlrig {
namespace {

using namespace std::chrono_literals;

class Tmux {
 public:
  Tmux() : socket_("dlrig-top-test-" + std::to_string(::getpid())) {}
  ~Tmux() {  // the server leaves its socket file behind
    auto path = Run({"display-message", "-p", "#{socket_path}"});
    Run({"kill-server"});
    if (path && path->exit_code == 0 && !Trim(path->out).empty())
      std::filesystem::remove(std::string(Trim(path->out)));
  }
  Result<ExecResult> Run(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"tmux", "-L", socket_, "-f", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    return SystemRunner().Run(argv, ExecOptions{10000ms, 1u << 20});
  }
  std::string Capture() const {
    auto r = Run({"capture-pane", "-p", "-J", "-t", "top"});
    return r && r->exit_code == 0 ? r->out : "";
  }
  /// Captures until `text` shows (or 20 s); returns the last capture.
  std::string WaitFor(const std::string& text) const {
    std::string screen;
    for (int i = 0; i < 100; ++i) {
      screen = Capture();
      if (screen.find(text) != std::string::npos) break;
      std::this_thread::sleep_for(200ms);
    }
    return screen;
  }

 private:
  std::string socket_;
};

bool HaveTmux() {
  auto r = SystemRunner().Run({"tmux", "-V"}, ExecOptions{5000ms, 4096});
  return r && r->exit_code == 0;
}

std::string Config(long long pid, bool lost) {
  std::string text =
      "driver_version=580.159.04\ncuda_version=13000\ndevice_count=2\n"
      "gpu0.name=Fake Tmux H100\ngpu0.uuid=GPU-0\ngpu0.memory_total=85520809984\n"
      "gpu0.memory_used=21474836480\ngpu0.util_gpu=45\ngpu0.temperature=51\n"
      "gpu0.power=312000\ngpu0.power_limit=700000\ngpu0.clock_sm=1980\n"
      "gpu0.processes=" +
      std::to_string(pid) +
      ":2147483648\n"
      "gpu1.name=Second Fake GPU\ngpu1.uuid=GPU-1\n";
  return lost ? text + "gpu1.lost=1\n" : text;
}

TEST(TopTmux, LiveScreenFitsEightyByTwentyFourAndQuitsOnQ) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh test)";
  testing::TempTree tree;
  std::string config = (tree.dir() / "fake-nvml.conf").string();
  tree.Write("fake-nvml.conf", Config(::getpid(), false));
  std::string env = std::string("env DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY +
                    " DLRIG_FAKE_NVML=" + config + " LC_ALL=C.UTF-8 TERM=screen ";
  std::string script = env + DLRIG_BINARY + " top --interval 300ms; echo \"top exited $?\"; " +
                       env + "COLUMNS=80 " + DLRIG_BINARY +
                       " top --once; echo \"once exited $?\"; sleep 60";
  Tmux tmux;
  auto started = tmux.Run({"new-session", "-d", "-x", "80", "-y", "24", "-s", "top", script});
  ASSERT_TRUE(started && started->exit_code == 0)
      << (started ? started->err : started.error().message);
  auto size = tmux.Run({"display-message", "-p", "-t", "top", "#{pane_width}x#{pane_height}"});
  ASSERT_TRUE(size);
  EXPECT_EQ(std::string(Trim(size->out)), "80x24");

  std::string screen = tmux.WaitFor("Fake Tmux H100");
  std::vector<std::string> lines = Split(screen, '\n', true);
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  ASSERT_EQ(lines.size(), 24u) << screen;
  EXPECT_TRUE(lines.front().starts_with("dlrig top")) << screen;        // header on the first row
  EXPECT_NE(lines.back().find("q quit"), std::string::npos) << screen;  // footer on the last
  EXPECT_NE(screen.find("Second Fake GPU"), std::string::npos) << screen;
  EXPECT_NE(screen.find("PID USER"), std::string::npos) << screen;
  EXPECT_NE(screen.find("COMMAND"), std::string::npos) << screen;
  EXPECT_NE(screen.find("312/700 W"), std::string::npos) << screen;  // the GPU line's right end
  EXPECT_NE(screen.find(std::to_string(::getpid()) + " "), std::string::npos) << screen;
  for (const std::string& line : lines) EXPECT_LE(DisplayWidth(line), 80) << line;
  EXPECT_EQ(screen.find("LOST"), std::string::npos) << screen;

  // The GPU vanishes while top runs: it says so, and keeps running.
  tree.Write("fake-nvml.conf", Config(::getpid(), true));
  screen = tmux.WaitFor("LOST");
  EXPECT_NE(screen.find("LOST"), std::string::npos) << screen;
  EXPECT_NE(screen.find("Fake Tmux H100"), std::string::npos) << screen;

  ASSERT_TRUE(tmux.Run({"send-keys", "-t", "top", "q"}));
  screen = tmux.WaitFor("once exited");
  EXPECT_NE(screen.find("top exited 0"), std::string::npos) << screen;
  EXPECT_NE(screen.find("once exited 0"), std::string::npos) << screen;
  // --once's whole frame is in the pane: header, both GPUs, the table, its footer line.
  for (const char* part : {"dlrig top", "Fake Tmux H100", "LOST", "PID USER", "sort:mem"})
    EXPECT_NE(screen.find(part), std::string::npos) << part << "\n" << screen;
}

TEST(TopTmux, OnceWithoutNvmlSaysWhichLayerAndExits2) {
  SystemRunner runner;
  auto r = runner.Run(
      {"env", "DLRIG_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1", DLRIG_BINARY, "top", "--once"},
      ExecOptions{60000ms, 1u << 20});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_TRUE(r->out.empty()) << r->out;
  EXPECT_NE(r->err.find("user-space driver"), std::string::npos) << r->err;
  EXPECT_NE(r->err.find("dlrig doctor"), std::string::npos) << r->err;
}

TEST(TopTmux, LiveModeNeedsATerminal) {
  auto r = SystemRunner().Run({DLRIG_BINARY, "top"}, ExecOptions{60000ms, 1u << 20});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 64);
  EXPECT_NE(r->err.find("--once"), std::string::npos) << r->err;
}

TEST(TopTmux, UnknownTerminalIsAClearError) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh test)";
  Tmux tmux;
  std::string script = std::string("env TERM=no-such-terminal DLRIG_NVML_LIBRARY=/nonexistent ") +
                       DLRIG_BINARY + " top; echo \"top exited $?\"; sleep 60";
  ASSERT_TRUE(tmux.Run({"new-session", "-d", "-x", "80", "-y", "24", "-s", "top", script}));
  std::string screen = tmux.WaitFor("top exited");
  EXPECT_NE(screen.find("top exited 64"), std::string::npos) << screen;
  EXPECT_NE(screen.find("TERM=xterm"), std::string::npos) << screen;
}

}  // namespace
}  // namespace dlrig
