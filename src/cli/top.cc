// dlrig top: the GPUs and their processes, live (ncurses) or as one frame on stdout (--once).
// Every value comes from the sampler's snapshots; the screen never calls NVML.
#include <langinfo.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/top_screen.h"
#include "core/strings.h"
#include "monitor/history_view.h"
#include "probe/user_driver.h"
#include "report/text.h"

namespace dlrig {
namespace {

// Snapshots kept for the sparklines: more than the widest sparkline a terminal shows.
constexpr size_t kHistoryKept = 256;

std::optional<TopSort> ParseSort(const std::string& text) {
  for (TopSort s : {TopSort::kMemory, TopSort::kPid, TopSort::kGpu, TopSort::kUser})
    if (text == TopSortName(s)) return s;
  return std::nullopt;
}

int ColumnsFromEnvironment() {
  const char* columns = std::getenv("COLUMNS");
  auto value = columns ? ParseInt(columns) : std::nullopt;
  return value && *value >= 20 && *value <= 1000 ? static_cast<int>(*value) : 80;
}

// The locale decides whether the terminal takes UTF-8 (ncursesw needs it set in any case).
bool LocaleIsUtf8() {
  std::setlocale(LC_CTYPE, "");
  const char* codeset = nl_langinfo(CODESET);
  return codeset && (std::strcmp(codeset, "UTF-8") == 0 || std::strcmp(codeset, "utf8") == 0);
}

// The layer that keeps NVML from describing any GPU, in words, for the plain message.
std::string MissingLayer(const MonitorSnapshot& s) {
  const LibraryAnswers& nvml = s.nvml;
  if (!nvml.loaded_path) return "user-space driver: libnvidia-ml cannot be loaded";
  for (const DriverCall& c : nvml.calls) {
    if (!c.function.starts_with("nvmlInit") || (c.code && *c.code == 0)) continue;
    if (c.code == 9)
      return "kernel driver: the NVIDIA kernel module is not loaded";  // DRIVER_NOT_LOADED
    if (c.code == 18)                                                  // LIB_RM_VERSION_MISMATCH
      return "user-space driver: libnvidia-ml does not match the loaded kernel module";
    return "user-space driver: NVML cannot initialise";
  }
  if (s.unavailable.empty() && nvml.devices.empty())
    return "hardware: the driver sees no NVIDIA GPU";
  return "user-space driver: NVML does not answer";
}

int NoGpu(const MonitorSnapshot& s) {
  std::string why = s.unavailable.empty() ? "NVML lists no GPU" : s.unavailable;
  std::fprintf(stderr,
               "dlrig top: no GPU can be shown: %s\nmissing layer: %s\n"
               "run `dlrig doctor` to find which layer is broken and how to fix it\n",
               why.c_str(), MissingLayer(s).c_str());
  return kExitErrors;
}

}  // namespace

int RunTop(const std::vector<std::string>& args) {
  CLI::App app(
      "The GPUs and their processes, live: utilisation, memory, temperature, power, "
      "clocks, PCIe throughput, throttling; sort, filter and signal processes.",
      "dlrig top");
  bool once = false, no_colour = false, show_commands = false;
  std::string interval_text = "1s", user, sort_text = "mem";
  app.add_flag("--once", once, "print one frame on stdout and exit (width from $COLUMNS or 80)");
  app.add_option("--interval", interval_text, "time between samples: 500ms, 1s, 2s (default 1s)");
  app.add_option("--user", user, "only this user's processes");
  app.add_option("--sort", sort_text, "process order: mem, pid, gpu or user (default mem)");
  app.add_flag("--no-color", no_colour, "no colour even on a terminal");
  app.add_flag("--show-commands", show_commands,
               "show each process's whole command line (default: the program's name only, "
               "since arguments can hold tokens and passwords)");
  if (auto done = ParseArgs(app, args)) return *done;
  auto sort = ParseSort(sort_text);
  auto interval = ParseHistoryDuration(interval_text);
  bool interval_ok =
      interval && *interval >= std::chrono::milliseconds(100) && *interval <= std::chrono::hours(1);
  if (!sort || !interval_ok) {
    std::fprintf(stderr, "dlrig top: %s\n",
                 !sort ? "--sort is mem, pid, gpu or user"
                       : "--interval is a duration from 100ms to 1h (500ms, 1s, 2s)");
    return kExitUsage;
  }
  if (!once && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
    std::fprintf(stderr,
                 "dlrig top: the live view needs a terminal; `dlrig top --once` prints "
                 "one frame on stdout\n");
    return kExitUsage;
  }
  auto session = Session::Open(SessionOptions{});
  if (!session) return kExitUsage;

  SamplerOptions options;
  options.driver = DriverQueryOptionsFor(session->context());
  options.interval = *interval;
  options.keep = kHistoryKept;
  if (show_commands) options.commands = CommandDetail::kFullCommandLine;
  Sampler sampler(options);
  TopViewState state{.sort = *sort, .user_filter = user, .utf8 = LocaleIsUtf8()};
  if (!once) {
    state.colour = !no_colour && std::getenv("NO_COLOR") == nullptr;
    return RunTopScreen(sampler, state);
  }
  auto snapshot = sampler.SampleNow();
  if (!snapshot->unavailable.empty() || snapshot->nvml.devices.empty()) return NoGpu(*snapshot);
  state.width = ColumnsFromEnvironment();
  state.height = 0;  // every GPU and every process
  state.colour = !no_colour && StdoutWantsColour();
  std::string text = TopFrameText(RenderTop({snapshot}, state), state.colour);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitHealthy;
}

}  // namespace dlrig
