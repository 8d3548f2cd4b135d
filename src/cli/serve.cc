// dlrig serve: the sampler's snapshots over HTTP (/metrics for Prometheus, /api/v1/gpus, a
// status page). Threads: the sampler's (it owns the NVML child), the HTTP server's poll loop,
// one follower that hands every new sample to the hooks, and main, which only waits for
// SIGINT/SIGTERM (blocked everywhere else, so no handler runs inside a library).
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/environment.h"
#include "core/host.h"
#include "monitor/http_server.h"
#include "monitor/prometheus.h"
#include "monitor/sampler.h"
#include "monitor/history.h"
#include "monitor/serve_routes.h"
#include "probe/user_driver.h"

namespace dlrig {
namespace {

/// Called on the follower thread with every sample, oldest first, none skipped while the
/// sampler keeps them (SamplerOptions::keep).
using SampleHook = std::function<void(const MonitorSnapshot&)>;

/// What records samples as serve runs: dlrig history's SQLite store when --history is given.
/// A failed write is said once on stderr; serving goes on.
std::vector<SampleHook> SampleHooks(History* history) {
  if (history == nullptr) return {};
  return {[history, said = false](const MonitorSnapshot& s) mutable {
    RecordSnapshot(*history, s);
    const auto& error = history->recorder().last_error;
    if (error && !said) {
      std::fprintf(stderr, "dlrig serve: history: %s (serving goes on)\n", error->message.c_str());
      said = true;
    }
  }};
}

// "1s", "500ms", "2m", "1.5s", or plain seconds ("2").
std::optional<std::chrono::milliseconds> ParseInterval(const std::string& text) {
  double value = 0;
  size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  double ms = unit == "ms"                  ? value
              : unit == "s" || unit.empty() ? value * 1000
              : unit == "m"                 ? value * 60000
                                            : -1;
  if (!(ms >= 100 && ms <= 3600 * 1000.0)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

bool IsLoopback(const std::string& host) { return host.starts_with("127.") || host == "::1"; }

// Room for the connection table and a margin: the soft descriptor limit raised toward the hard
// one (services often start at 1024). The HTTP server sizes its table to what there is.
void RaiseDescriptorLimit(rlim_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
}

// Hands each new sample to the hooks and says once on stderr when GPUs stop or start being
// describable (not on every sample).
class Follower {
 public:
  Follower(const Sampler& sampler, std::vector<SampleHook> hooks)
      : sampler_(sampler), hooks_(std::move(hooks)), thread_([this] { Loop(); }) {}
  ~Follower() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Loop() {
    uint64_t seen = 0;
    std::string said;
    while (!stop_) {
      auto newest = sampler_.WaitNewer(seen, std::chrono::milliseconds(200));
      if (!newest || newest->sequence <= seen) continue;
      for (const auto& s : sampler_.Recent()) {
        if (s->sequence <= seen) continue;
        for (const auto& hook : hooks_) hook(*s);
        seen = s->sequence;
      }
      if (newest->sequence > seen) seen = newest->sequence;  // older than Recent() keeps
      std::string why = UnavailableReason(newest.get());
      if (why != said && !why.empty())
        std::fprintf(stderr,
                     "dlrig serve: no GPU can be described: %s\n"
                     "  still serving (dlrig_gpu_up absent, dlrig_sampler_unavailable set); run "
                     "`dlrig doctor` to find which layer is broken and how to fix it\n",
                     why.c_str());
      else if (why != said)
        std::fprintf(stderr, "dlrig serve: NVML answers: %zu GPU(s)\n",
                     newest->nvml.devices.size());
      said = why;
    }
  }

  const Sampler& sampler_;
  std::vector<SampleHook> hooks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  CLI::App app(
      "Serve the GPUs' live values over HTTP: /metrics (Prometheus), /api/v1/gpus "
      "(JSON), / (status page), /healthz. Samples NVML in one background thread.",
      "dlrig serve");
  std::string listen = "127.0.0.1:9835", interval_text = "1s", naming_text = "native";
  bool no_processes = false, show_commands = false;
  std::string history_path;
  app.add_option("--listen", listen,
                 "ADDR:PORT or [IPv6]:PORT to listen on (default 127.0.0.1:9835, loopback only)");
  app.add_option("--interval", interval_text, "time between samples: 1s, 500ms, 2m (default 1s)");
  app.add_option("--naming", naming_text,
                 "metric names: native (dlrig_*) or dcgm (dcgm-exporter's DCGM_FI_DEV_*)");
  app.add_flag("--no-processes", no_processes, "do not ask for the processes on each GPU");
  app.add_flag("--show-commands", show_commands,
               "put each GPU process's whole command line in /api/v1/gpus and the status page "
               "(default: the program's name only; arguments can hold tokens, and anyone who can "
               "reach the port reads them)");
  app.add_option("--history", history_path,
                 "also record every sample in this SQLite history (see dlrig history); "
                 "'default' is ~/.local/share/dlrig/history.db")
      ->expected(0, 1)
      ->default_str("default");
  if (auto done = ParseArgs(app, args)) return *done;
  auto naming = ParseMetricNaming(naming_text);
  auto interval = ParseInterval(interval_text);
  auto address = ParseListenAddress(listen);
  if (!naming || !interval || !address) {
    std::fprintf(stderr, "dlrig serve: %s\n",
                 !naming     ? "--naming is native or dcgm"
                 : !interval ? "--interval is a duration from 100ms to 1h (1s, 500ms, 2m)"
                             : ("--listen: " + address.error().message).c_str());
    return kExitUsage;
  }
  auto session = Session::Open(SessionOptions{});
  if (!session) return kExitUsage;

  // Blocked before any thread exists, so every thread inherits it and main alone takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SamplerOptions sampler_options;
  sampler_options.driver = DriverQueryOptionsFor(session->context());
  sampler_options.driver.cuda_library.clear();  // NVML describes the GPUs
  sampler_options.interval = *interval;
  sampler_options.processes = !no_processes;
  if (show_commands) sampler_options.commands = CommandDetail::kFullCommandLine;
  std::string hostname = Hostname();
  ServeRoutesOptions routes;
  routes.exposition = {*naming, hostname};
  routes.hostname = hostname;
  routes.interval = *interval;
  routes.stale_after = 3 * *interval + sampler_options.driver.deadline;

  // Bound first (no thread yet) so a taken port fails fast.
  Sampler sampler(sampler_options);
  HttpServerOptions http;
  RaiseDescriptorLimit(http.max_connections + 256);
  auto server = HttpServer::Listen(
      *address, http, MakeServeHandler([&sampler] { return sampler.Latest(); }, routes));
  if (!server) {
    std::fprintf(stderr, "dlrig serve: %s\n", server.error().message.c_str());
    return kExitErrors;
  }
  // The first sample on this thread: the NVML child is forked while serve is still one
  // thread, and the first scrape already has data.
  sampler.SampleNow();
  sampler.Start();
  std::optional<History> history;
  if (app.count("--history") > 0) {
    auto path = history_path.empty() || history_path == "default"
                    ? DefaultHistoryPath(Environment::FromProcess())
                    : Result<std::string>(history_path);
    HistoryOptions options;
    options.recorder = "dlrig serve";  // one recorder per file: a second one is refused
    auto opened = path ? History::Open(*path, options) : tl::unexpected(path.error());
    if (!opened) {
      std::fprintf(stderr, "dlrig serve: --history: %s\n", opened.error().message.c_str());
      return kExitErrors;
    }
    history.emplace(std::move(*opened));
    std::fprintf(stderr, "dlrig serve: recording samples in %s\n", path->c_str());
  }
  Follower follower(sampler, SampleHooks(history ? &*history : nullptr));
  (*server)->Start();
  std::string where = (*server)->address().ToString();
  std::fprintf(stderr, "dlrig serve: listening on http://%s/ (metrics: /metrics, naming %s)\n",
               where.c_str(), naming_text.c_str());
  if (!IsLoopback(address->host))
    std::fprintf(stderr,
                 "dlrig serve: %s is reachable from the network and has no "
                 "authentication; put it behind a firewall or a TLS proxy\n",
                 where.c_str());

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::fprintf(stderr, "dlrig serve: %s, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Stop();
  return kExitHealthy;
}

}  // namespace dlrig
