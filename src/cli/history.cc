// dlrig history: what the GPUs did, from the SQLite history that serve, top and
// `dlrig history record` write: a table (or JSON, or an SVG chart) of a time window.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/atomic_file.h"
#include "core/json_dump.h"
#include "core/strings.h"
#include "core/host.h"
#include "monitor/history.h"
#include "monitor/history_view.h"
#include "monitor/sampler.h"
#include "probe/user_driver.h"

namespace dlrig {
namespace {

using nlohmann::json;

constexpr size_t kMaxRows = 60;

Result<std::string> DbPath(const std::string& given) {
  if (!given.empty()) return given;
  return DefaultHistoryPath(Environment::FromProcess());
}

// The GPU --gpu names: its NVML index when last seen, or its UUID (or the start of it).
const HistoryGpu* FindGpu(const std::vector<HistoryGpu>& gpus, const std::string& wanted) {
  if (auto index = ParseInt(wanted); index && wanted.find_first_not_of("0123456789") == std::string::npos) {
    for (const auto& g : gpus)
      if (g.last_index == *index) return &g;
    return nullptr;
  }
  std::string w = ToLower(wanted);
  for (const auto& g : gpus) {
    std::string uuid = ToLower(g.uuid);
    if (uuid.starts_with(w) || (uuid.starts_with("gpu-") && uuid.substr(4).starts_with(w))) return &g;
  }
  return nullptr;
}

std::string GpuLabel(const HistoryGpu& g) {
  return fmt::format("GPU {} {}", g.last_index, g.name.empty() ? g.uuid : g.name);
}

std::string Number(const std::optional<double>& v) {
  if (!v) return "-";
  double a = std::abs(*v);
  return a >= 100 || *v == std::floor(*v) ? fmt::format("{:.0f}", *v)
         : a >= 10                        ? fmt::format("{:.1f}", *v)
                                          : fmt::format("{:.2f}", *v);
}

std::string DurationText(int64_t ms) {
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 120'000) return fmt::format("{:g} s", ms / 1000.0);
  if (ms < 7'200'000) return fmt::format("{:.3g} min", ms / 60'000.0);
  return fmt::format("{:.3g} h", ms / 3'600'000.0);
}

void PrintTable(const HistoryGpu& gpu, const std::vector<HistorySample>& samples,
                const std::vector<const HistoryMetric*>& metrics) {
  std::printf("%s  %s%s\n", GpuLabel(gpu).c_str(), gpu.uuid.c_str(),
              gpu.pci_bus_id.empty() ? "" : fmt::format("  ({})", gpu.pci_bus_id).c_str());
  std::vector<std::string> headers;
  std::vector<size_t> widths;
  for (const HistoryMetric* m : metrics) {
    headers.push_back(fmt::format("{} {}", m->key, m->unit));
    widths.push_back(std::max<size_t>(8, headers.back().size()));
  }
  std::string line = fmt::format("  {:<19}", "time");
  for (size_t i = 0; i < metrics.size(); ++i) line += fmt::format("  {:>{}}", headers[i], widths[i]);
  std::printf("%s\n", line.c_str());
  auto row = [&](const std::string& label, const std::vector<std::optional<double>>& values) {
    std::string text = fmt::format("  {:<19}", label);
    for (size_t i = 0; i < values.size(); ++i) text += fmt::format("  {:>{}}", Number(values[i]), widths[i]);
    std::printf("%s\n", text.c_str());
  };
  std::vector<HistoryBucket> buckets = Downsample(samples, metrics, kMaxRows);
  for (const HistoryBucket& b : buckets) row(LocalTimeText(b.start_ms), b.values);
  std::vector<HistoryStat> stats = Summarize(samples, metrics);
  std::vector<std::optional<double>> mins, means, maxes;
  for (const HistoryStat& s : stats) mins.push_back(s.min), means.push_back(s.mean), maxes.push_back(s.max);
  row(fmt::format("min ({} samples)", samples.size()), mins);
  row("avg", means);
  row("max", maxes);
  if (buckets.size() < samples.size())
    std::printf("  (each row averages %s of samples; counters show their last value)\n",
                DurationText(buckets.size() > 1 ? buckets[1].start_ms - buckets[0].start_ms : 0).c_str());
  std::printf("\n");
}

json SampleJson(const HistorySample& s) {
  json j = {{"time", UtcTimeText(s.time_ms)}, {"time_ms", s.time_ms}, {"gpu_uuid", s.gpu_uuid}};
  for (const SampleColumn& c : SampleColumns()) {
    const auto& v = s.*c.field;
    j[c.name] = v ? json(*v) : json(nullptr);
  }
  return j;
}

json EventJson(const HistoryEvent& e) {
  return {{"time", UtcTimeText(e.time_ms)}, {"time_ms", e.time_ms}, {"kind", e.kind},
          {"gpu_uuid", e.gpu_uuid.empty() ? json(nullptr) : json(e.gpu_uuid)},
          {"pci_bus_id", e.pci_bus_id.empty() ? json(nullptr) : json(e.pci_bus_id)},
          {"code", e.code ? json(*e.code) : json(nullptr)}, {"text", e.text}};
}

std::atomic<bool> g_stop{false};  // set by SIGINT/SIGTERM: a signal handler can reach nothing else
void OnStopSignal(int) { g_stop = true; }

int RunRecord(const std::vector<std::string>& args) {
  CLI::App app("Sample every GPU and record into the history until --duration has passed or "
               "Ctrl-C (serve and top record too; this works on its own).",
               "dlrig history record");
  std::string db, interval_text = "1s", duration_text, retention_text = "7d";
  app.add_option("--db", db, "the history file (default ~/.local/share/dlrig/history.db)")->type_name("PATH");
  app.add_option("--interval", interval_text, "time between samples (500ms, 1s, 10s)")->capture_default_str();
  app.add_option("--duration", duration_text, "stop after this long (10m, 1h); default: until Ctrl-C");
  app.add_option("--retention", retention_text, "delete samples older than this (events: 90 days)")
      ->capture_default_str();
  if (auto done = ParseArgs(app, args)) return *done;
  auto interval = ParseHistoryDuration(interval_text);
  auto retention = ParseHistoryDuration(retention_text);
  auto duration = duration_text.empty() ? Result<std::chrono::milliseconds>(std::chrono::milliseconds::max())
                                        : ParseHistoryDuration(duration_text);
  for (auto* r : {&interval, &retention, &duration})
    if (!*r) {
      std::fprintf(stderr, "dlrig history record: %s\n", r->error().message.c_str());
      return kExitUsage;
    }
  auto path = DbPath(db);
  if (!path) {
    std::fprintf(stderr, "dlrig history record: %s\n", path.error().message.c_str());
    return kExitUsage;
  }
  HistoryOptions options;
  options.sample_retention = *retention;
  options.recorder = "dlrig history record";
  auto history = History::Open(*path, options);
  if (!history) {
    std::fprintf(stderr, "dlrig history record: %s\n", history.error().message.c_str());
    return kExitErrors;
  }
  auto session = Session::Open(SessionOptions{});
  if (!session) return kExitUsage;
  SamplerOptions sampler_options;
  sampler_options.driver = DriverQueryOptionsFor(session->context());
  sampler_options.driver.cuda_library.clear();  // NVML gives every sampled value
  sampler_options.interval = *interval;
  sampler_options.processes = false;  // the history keeps no processes
  Sampler sampler(sampler_options);

  struct sigaction stop{}, old_int{}, old_term{};
  stop.sa_handler = OnStopSignal;
  ::sigaction(SIGINT, &stop, &old_int);
  ::sigaction(SIGTERM, &stop, &old_term);
  g_stop = false;
  auto until = std::chrono::steady_clock::now() +
               std::min<std::chrono::milliseconds>(*duration, std::chrono::hours(24 * 365 * 100));
  std::fprintf(stderr, "dlrig history record: sampling every %s into %s%s\n", interval_text.c_str(),
               path->c_str(), duration_text.empty() ? " until Ctrl-C" : (" for " + duration_text).c_str());
  sampler.Start();
  uint64_t recorded = 0, seen = 0;
  std::string last_error, unavailable;
  size_t gpus = 0;
  while (!g_stop && std::chrono::steady_clock::now() < until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    sampler.WaitNewer(seen, std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(250)));
    for (const auto& snapshot : sampler.Recent()) {  // every snapshot, even when we fell behind
      if (snapshot->sequence <= seen) continue;
      seen = snapshot->sequence;
      RecordSnapshot(*history, *snapshot);
      unavailable = snapshot->unavailable;
      gpus = std::max(gpus, snapshot->nvml.devices.size());
      const auto& error = history->recorder().last_error;
      if (!error) ++recorded;
      if (error && error->message != last_error)
        std::fprintf(stderr, "dlrig history record: %s\n", error->message.c_str());
      last_error = error ? error->message : "";
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  std::fprintf(stderr, "dlrig history record: recorded %llu snapshot(s) of %zu GPU(s) into %s\n",
               static_cast<unsigned long long>(recorded), gpus, path->c_str());
  if (!unavailable.empty()) {
    std::fprintf(stderr, "dlrig history record: no GPU can be described: %s\n"
                         "run `dlrig doctor` to find which layer is broken and how to fix it\n",
                 unavailable.c_str());
    return kExitErrors;
  }
  const History::RecorderState& state = history->recorder();
  if (state.rejected_samples > 0)
    std::fprintf(stderr, "dlrig history record: %lld sample(s) were not stored: %s already held "
                         "a sample of that GPU at that time\n",
                 static_cast<long long>(state.rejected_samples), path->c_str());
  return state.failed_writes > 0 || state.rejected_samples > 0 ? kExitErrors : kExitHealthy;
}

}  // namespace

int RunHistory(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "record")
    return RunRecord(std::vector<std::string>(args.begin() + 1, args.end()));
  CLI::App app("GPU samples and events from the history (recorded by `dlrig history record`, "
               "serve or top): a table of at most 60 rows with min/avg/max, JSON, or an SVG chart.",
               "dlrig history");
  std::string db, gpu_arg, since_text = "1h", until_text = "now", svg_path;
  std::string metric_text = "util,mem,temp,power,sm";
  bool as_json = false;
  app.add_option("--db", db, "the history file (default ~/.local/share/dlrig/history.db)")->type_name("PATH");
  app.add_option("--gpu", gpu_arg, "one GPU: its index or UUID (default: every GPU)")->type_name("N|UUID");
  app.add_option("--since", since_text, "from (1h, 30m, 2026-11-22T10:00)")->capture_default_str();
  app.add_option("--until", until_text, "to (now, 10m, 2026-11-22T11:00)")->capture_default_str();
  std::vector<std::string> names;
  for (const auto& m : HistoryMetrics()) names.push_back(m.key);
  app.add_option("--metric", metric_text, fmt::format("comma-separated: {} or all", fmt::join(names, ",")))
      ->capture_default_str();
  app.add_flag("--json", as_json, "every sample in the window (schema dlrig.history/1)");
  app.add_option("--svg", svg_path, "also write a chart per metric to FILE")->type_name("FILE");
  if (auto done = ParseArgs(app, args)) return *done;

  int64_t now = NowMs();
  auto since = ParseHistoryTime(since_text, now);
  auto until = ParseHistoryTime(until_text, now);
  auto metrics = ParseHistoryMetrics(metric_text);
  for (const auto& [flag, error] : {std::pair{"--since", since ? std::string() : since.error().message},
                                    {"--until", until ? std::string() : until.error().message},
                                    {"--metric", metrics ? std::string() : metrics.error().message}})
    if (!error.empty()) {
      std::fprintf(stderr, "dlrig history: %s: %s\n", flag, error.c_str());
      return kExitUsage;
    }
  if (*since >= *until) {
    std::fprintf(stderr, "dlrig history: --since (%s) is not before --until (%s)\n",
                 LocalTimeText(*since).c_str(), LocalTimeText(*until).c_str());
    return kExitUsage;
  }
  auto path = DbPath(db);
  if (!path) {
    std::fprintf(stderr, "dlrig history: %s\n", path.error().message.c_str());
    return kExitUsage;
  }
  HistoryOptions options;
  options.access = HistoryAccess::kReadOnly;
  auto history = History::Open(*path, options);
  Result<std::vector<HistoryGpu>> gpus = tl::unexpected(Error{ErrorKind::kIo, ""});
  gpus = history ? history->Gpus() : tl::unexpected(history.error());
  if (!gpus) {
    std::fprintf(stderr, "dlrig history: %s\n", gpus.error().message.c_str());
    return kExitErrors;
  }
  if (gpus->empty()) {
    std::fprintf(stderr, "dlrig history: %s holds no samples yet: `dlrig history record` records some\n",
                 path->c_str());
    return kExitErrors;
  }
  std::vector<HistoryGpu> shown = *gpus;
  if (!gpu_arg.empty()) {
    const HistoryGpu* g = FindGpu(*gpus, gpu_arg);
    if (g == nullptr) {
      std::string known;
      for (const auto& k : *gpus) known += fmt::format("\n  {}  {}", GpuLabel(k), k.uuid);
      std::fprintf(stderr, "dlrig history: no GPU '%s' in %s; it has:%s\n", gpu_arg.c_str(),
                   path->c_str(), known.c_str());
      return kExitUsage;
    }
    shown = {*g};
  }
  std::string uuid = gpu_arg.empty() ? "" : shown[0].uuid;
  auto samples = history->Samples(*since, *until, uuid);
  Result<std::vector<HistoryEvent>> events = tl::unexpected(Error{ErrorKind::kIo, ""});
  events = samples ? history->Events(*since, *until, uuid) : tl::unexpected(samples.error());
  if (!events) {
    std::fprintf(stderr, "dlrig history: %s\n", events.error().message.c_str());
    return kExitErrors;
  }
  std::map<std::string, std::vector<HistorySample>> by_gpu;
  for (auto& s : *samples) by_gpu[s.gpu_uuid].push_back(std::move(s));

  if (!svg_path.empty()) {
    std::vector<ChartSeries> series;
    for (const auto& g : shown)
      if (by_gpu.count(g.uuid)) series.push_back({GpuLabel(g), by_gpu[g.uuid]});
    if (auto ok = WriteFileAtomically(svg_path, HistorySvg(series, *metrics)); !ok) {
      std::fprintf(stderr, "dlrig history: %s\n", ok.error().message.c_str());
      return kExitErrors;
    }
    std::fprintf(stderr, "dlrig history: wrote %s (%zu chart(s), %zu GPU(s))\n", svg_path.c_str(),
                 metrics->size(), series.size());
  }
  if (as_json) {
    json j = {{"schema", "dlrig.history/1"}, {"db", *path}, {"since", UtcTimeText(*since)},
              {"until", UtcTimeText(*until)}, {"gpus", json::array()}, {"samples", json::array()},
              {"events", json::array()}};
    for (const auto& g : shown)
      j["gpus"].push_back({{"index", g.last_index}, {"uuid", g.uuid}, {"name", g.name},
                           {"pci_bus_id", g.pci_bus_id}, {"first_seen", UtcTimeText(g.first_seen_ms)},
                           {"last_seen", UtcTimeText(g.last_seen_ms)}});
    for (const auto& g : shown)
      for (const auto& s : by_gpu[g.uuid]) j["samples"].push_back(SampleJson(s));
    for (const auto& e : *events) j["events"].push_back(EventJson(e));
    std::string text = DumpJson(j) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::printf("history %s, %s to %s (local time)\n\n", path->c_str(), LocalTimeText(*since).c_str(),
                LocalTimeText(*until).c_str());
    for (const auto& g : shown)
      if (by_gpu.count(g.uuid)) PrintTable(g, by_gpu[g.uuid], *metrics);
    if (!events->empty()) {
      std::printf("events\n");
      for (const auto& e : *events)
        std::printf("  %s  %-15s %-14s %s\n", LocalTimeText(e.time_ms).c_str(), e.kind.c_str(),
                    e.pci_bus_id.empty() ? (e.gpu_uuid.empty() ? "-" : e.gpu_uuid.substr(0, 12).c_str())
                                         : e.pci_bus_id.c_str(),
                    e.text.c_str());
    }
  }
  if (by_gpu.empty() && events->empty()) {
    std::fprintf(stderr, "dlrig history: nothing recorded between %s and %s (%zu GPU(s) in %s)\n",
                 LocalTimeText(*since).c_str(), LocalTimeText(*until).c_str(), gpus->size(), path->c_str());
    return kExitErrors;
  }
  return kExitHealthy;
}

}  // namespace dlrig
