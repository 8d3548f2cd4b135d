// dlrig bench list | compare A B | history: the benchmarks, two runs side by side, the stored
// runs.
#include <fmt/format.h>

#include <cstring>

#include "bench/bench_history.h"
#include "bench/benchmarks.h"
#include "bench/compare.h"
#include "bench/report_json.h"
#include "cli/bench_cli.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "core/strings.h"
#include "report/text.h"

namespace dlrig::bench_cli {

using namespace bench;

int RunList(const std::vector<std::string>& args) {
  CLI::App app(
      "Every benchmark: its key, what it measures, the formula from time to figure, and "
      "the profiles that run it.",
      "dlrig bench list");
  bool as_json = false;
  app.add_flag("--json", as_json, "as JSON");
  if (auto done = ParseArgs(app, args)) return *done;
  if (as_json) {
    ojson j = ojson::array();
    for (const Benchmark& b : Benchmarks())
      j.push_back({{"key", b.key},
                   {"description", b.description},
                   {"formula", b.formula},
                   {"quick", b.quick},
                   {"default", b.defaults},
                   {"full", true}});
    Out(Dump(j));
    return kExitHealthy;
  }
  size_t width = 4;
  for (const Benchmark& b : Benchmarks()) width = std::max(width, std::strlen(b.key));
  std::string text =
      fmt::format("{:<{}}  {:<20}  {}\n", "key", width, "profiles", "what it measures");
  for (const Benchmark& b : Benchmarks()) {
    std::string profiles = b.quick ? "quick default full" : b.defaults ? "default full" : "full";
    text += fmt::format("{:<{}}  {:<20}  {}\n{:<{}}  {:<20}  formula: {}\n", b.key, width, profiles,
                        b.description, "", width, "", b.formula);
  }
  Out(text);
  return kExitHealthy;
}

// A run id from the history, or a file written by --json.
Result<BenchRun> LoadRun(const std::string& what, const std::string& db, std::string& label) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(what, ec)) {
    auto root = Root::Open("/");
    if (!root) return tl::unexpected(root.error());
    auto text = root->ReadFile(std::filesystem::absolute(what).string(), 256u << 20);
    if (!text)
      return Fail(text.error().kind, fmt::format("cannot read {}: {}", what, text.error().message));
    auto run = ParseBenchJson(*text);
    if (!run)
      return Fail(run.error().kind, fmt::format("{} is not a `dlrig bench --json` file: {}", what,
                                                run.error().message));
    label = fmt::format("{} ({} {}, {})", what, run->host,
                        run->started_ms ? IsoUtc(run->started_ms) : "?", run->backend);
    return run;
  }
  auto id = ParseInt(what);
  if (!id || what.find_first_not_of("0123456789") != std::string::npos)
    return Fail(
        ErrorKind::kNotFound,
        fmt::format("\"{}\" is neither a file nor a run id from `dlrig bench history`", what));
  auto path = HistoryPath(db);
  if (!path) return tl::unexpected(path.error());
  auto history = BenchHistory::Open(*path, HistoryAccess::kReadOnly);
  if (!history) return tl::unexpected(history.error());
  auto run = history->Load(*id);
  if (!run) return run;
  label = fmt::format("run {} ({} {}, {} {})", *id, run->host, IsoUtc(run->started_ms),
                      run->profile, run->backend);
  return run;
}

int RunCompare(const std::vector<std::string>& args) {
  CLI::App app(
      "Two runs figure by figure: A, B, the change, and a flag where B is worse (regression) "
      "or better by more than the threshold. A and B: run ids from `dlrig bench history` or "
      "files written by `dlrig bench --json`.",
      "dlrig bench compare");
  std::string a, b, db;
  double threshold = 5;
  bool as_json = false, no_colour = false;
  app.add_option("A", a, "the earlier run: an id or a JSON file")->required();
  app.add_option("B", b, "the later run: an id or a JSON file")->required();
  app.add_option("--threshold", threshold, "flag changes of more than this many percent")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--db", db, "the history file (default ~/.local/share/dlrig/history.db)")
      ->type_name("PATH");
  app.add_flag("--json", as_json, "as JSON (schema dlrig.bench-compare/1)");
  app.add_flag("--no-color", no_colour, "no colour even on a terminal");
  if (auto done = ParseArgs(app, args)) return *done;
  std::string label_a, label_b;
  auto run_a = LoadRun(a, db, label_a);
  auto run_b = run_a ? LoadRun(b, db, label_b) : Result<BenchRun>(tl::unexpected(run_a.error()));
  if (!run_a || !run_b) {
    const Error& e = run_a ? run_b.error() : run_a.error();
    std::fprintf(stderr, "dlrig bench compare: %s\n", e.message.c_str());
    return e.kind == ErrorKind::kNotFound && !std::filesystem::exists(run_a ? b : a) ? kExitUsage
                                                                                     : kExitErrors;
  }
  Comparison c = Compare(run_a->results, run_b->results, threshold);
  if (as_json)
    Out(Dump(ComparisonJson(c, label_a, label_b, threshold)));
  else
    Out(ComparisonText(c, label_a, label_b, threshold, !no_colour && StdoutWantsColour()));
  return c.regressions > 0 ? kExitWarnings : kExitHealthy;
}

int RunHistoryList(const std::vector<std::string>& args) {
  CLI::App app(
      "The latest bench runs stored in the history: id, date, profile, backend, figures "
      "and their verdicts. `dlrig bench compare ID ID` compares two.",
      "dlrig bench history");
  std::string db;
  int limit = 20;
  bool as_json = false;
  app.add_option("--db", db, "the history file (default ~/.local/share/dlrig/history.db)")
      ->type_name("PATH");
  app.add_option("--limit", limit, "at most this many runs, newest first")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", as_json, "as JSON");
  if (auto done = ParseArgs(app, args)) return *done;
  auto path = HistoryPath(db);
  if (!path) {
    std::fprintf(stderr, "dlrig bench history: %s\n", path.error().message.c_str());
    return kExitUsage;
  }
  if (std::error_code ec; !std::filesystem::exists(*path, ec) && !as_json) {
    std::fprintf(stderr, "dlrig bench history: no bench run stored yet (%s does not exist)\n",
                 path->c_str());
    return kExitHealthy;
  }
  auto history = BenchHistory::Open(*path, HistoryAccess::kReadOnly);
  auto runs = history ? history->Recent(limit)
                      : Result<std::vector<StoredRunSummary>>(tl::unexpected(history.error()));
  if (!runs) {
    std::fprintf(stderr, "dlrig bench history: %s\n", runs.error().message.c_str());
    return kExitErrors;
  }
  auto verdicts = [](const StoredRunSummary& r) {
    std::vector<std::string> parts;
    for (const auto& [v, n] : r.verdicts) parts.push_back(fmt::format("{} {}", n, VerdictName(v)));
    return fmt::format("{}", fmt::join(parts, ", "));
  };
  if (as_json) {
    ojson j = {{"schema", "dlrig.bench-history/1"}, {"db", *path}, {"runs", ojson::array()}};
    for (const auto& r : *runs) {
      ojson v = ojson::object();
      for (const auto& [verdict, n] : r.verdicts) v[std::string(VerdictName(verdict))] = n;
      j["runs"].push_back({{"id", r.id},
                           {"started", IsoUtc(r.started_ms)},
                           {"host", r.host},
                           {"profile", r.profile},
                           {"backend", r.backend},
                           {"figures", r.figures},
                           {"verdicts", v}});
    }
    Out(Dump(j));
    return kExitHealthy;
  }
  if (runs->empty()) {
    std::fprintf(stderr, "dlrig bench history: no bench run stored in %s yet\n", path->c_str());
    return kExitHealthy;
  }
  std::string text = fmt::format("{:>5}  {:<20}  {:<8}  {:<7}  {:>7}  {}\n", "id", "started (UTC)",
                                 "profile", "backend", "figures", "verdicts");
  for (const auto& r : *runs)
    text += fmt::format("{:>5}  {:<20}  {:<8}  {:<7}  {:>7}  {}\n", r.id, IsoUtc(r.started_ms),
                        r.profile, r.backend, r.figures, verdicts(r));
  Out(text);
  return kExitHealthy;
}

}  // namespace dlrig::bench_cli
