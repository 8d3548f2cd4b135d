// dlrig bench: is this machine as fast as it should be? Every figure against the limit computed
// from the device, as a table, --json or --html, stored in the history. `bench list`,
// `bench compare A B` and `bench history` are in bench_tools.cc.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "bench/bench_history.h"
#include "bench/benchmarks.h"
#include "bench/cuda_backend.h"
#include "bench/null_backend.h"
#include "bench/report_html.h"
#include "bench/report_json.h"
#include "bench/report_text.h"
#include "bench/storage.h"
#include "cli/bench_cli.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "core/atomic_file.h"
#include "core/json_dump.h"
#include "core/root.h"
#include "core/strings.h"
#include "core/host.h"
#include "report/text.h"

namespace dlrig {

namespace bench_cli {

using namespace bench;

void Out(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string Dump(const ojson& j) {
  return DumpJson(j) + "\n";
}

std::string KnownKeys() {
  std::vector<std::string> keys;
  for (const Benchmark& b : Benchmarks()) keys.push_back(b.key);
  return fmt::format("{}", fmt::join(keys, ", "));
}

Result<std::string> HistoryPath(const std::string& given) {
  if (!given.empty()) return given;
  return DefaultHistoryPath(Environment::FromProcess());
}

}  // namespace bench_cli

namespace {

using namespace bench;
using namespace bench_cli;

// "8M" -> 8 MiB (K, M, G, T are powers of 1024, as nccl-tests and fio take them); > 0.
Result<size_t> ParseSize(std::string_view text) {
  auto bytes = ParseByteSize(text);
  if (bytes && *bytes == 0) return Fail(ErrorKind::kMalformed, fmt::format("size \"{}\" is 0", text));
  if (!bytes) return tl::unexpected(bytes.error());
  return static_cast<size_t>(*bytes);
}

template <class T, class F>
Result<std::vector<T>> ParseList(const std::string& text, F parse) {
  std::vector<T> out;
  for (const std::string& item : Split(text, ',')) {
    auto v = parse(std::string(Trim(item)));
    if (!v) return tl::unexpected(v.error());
    out.push_back(*v);
  }
  return out;
}

int RunRun(const std::vector<std::string>& args) {
  CLI::App app(
      "Measure the machine: every figure next to the physical limit computed from the device, "
      "a verdict for each. BENCH: the benchmarks to run (default: those of the profile; "
      "`dlrig bench list`).",
      "dlrig bench");
  Options options;
  std::vector<std::string> only;
  bool quick = false, full = false, as_json = false, no_history = false, no_colour = false;
  std::string html, gpus, path, sizes, dtypes, backend_name = "cuda", db;
  double burn_seconds = 0;
  int null_gpus = 2;
  app.add_option("BENCH", only, "benchmarks to run");
  auto* q = app.add_flag("--quick", quick, "the short profile (about a minute on one GPU)");
  app.add_flag("--full", full, "every benchmark, longer samples")->excludes(q);
  app.add_flag("--json", as_json, "machine-readable output (schema dlrig.bench/1)");
  app.add_option("--html", html, "also write a page with charts to FILE")->type_name("FILE");
  app.add_option("--gpu", gpus, "the GPUs to use, by CUDA index (default: all)")->type_name("0,1");
  app.add_option("--path", path, "directory for the storage benchmark (without it: waived)")
      ->type_name("DIR");
  std::string storage_block, storage_size, storage_rw;
  app.add_option("--threads", options.storage.threads, "storage: threads, one file each (fio numjobs)")
      ->check(CLI::Range(1, 256));
  app.add_option("--qd", options.storage.queue_depth, "storage: I/Os in flight per thread (fio iodepth)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", options.storage.seconds, "storage: seconds per pattern (fio runtime)")
      ->check(CLI::PositiveNumber);
  app.add_option("--size", storage_size, "storage: bytes per file (fio size)")->type_name("1G");
  app.add_option("--block", storage_block, "storage: sequential block size (fio bs)")->type_name("1M");
  app.add_option("--rw", storage_rw,
                 "storage: the patterns to run (seq-read, seq-write, rand-read, rand-write, or fio's "
                 "read, write, randread, randwrite; default: the profile's)")
      ->type_name("seq-read,rand-read");
  app.add_option("--burn-seconds", burn_seconds, "how long burn runs (default: the profile's)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sizes", sizes, "transfer sizes for the sweeps (K, M, G = 1024^n)")
      ->type_name("8M,1G");
  app.add_option("--dtypes", dtypes, "GEMM element types")->type_name("bf16,fp8");
  app.add_option("--backend", backend_name, "cuda: the GPUs; null: a model, no GPU (for tests)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cuda", "null"}));
  app.add_option("--null-gpus", null_gpus, "how many GPUs the null backend models")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  auto* hdb = app.add_option("--history-db", db,
                             "store the run in this history file (default: "
                             "~/.local/share/dlrig/history.db; the null backend stores only here)")
                  ->type_name("PATH");
  app.add_flag("--no-history", no_history, "do not store the run")->excludes(hdb);
  app.add_flag("--no-color", no_colour, "no colour even on a terminal");
  if (auto done = ParseArgs(app, args)) return *done;

  options.profile = quick ? Profile::kQuick : full ? Profile::kFull : Profile::kDefault;
  for (auto [text, slot] : {std::pair{&storage_size, &options.storage.file_bytes},
                            std::pair{&storage_block, &options.storage.block_bytes}}) {
    if (text->empty()) continue;
    auto bytes = ParseSize(*text);
    if (!bytes) {
      std::fprintf(stderr, "dlrig bench: %s: not a size (1M, 4k, 1G)\n", text->c_str());
      return kExitUsage;
    }
    *slot = *bytes;
  }
  options.storage_path = path;
  options.burn_seconds = burn_seconds;
  for (const std::string& key : only) {
    if (!FindBenchmark(key)) {
      std::fprintf(stderr, "dlrig bench: no benchmark \"%s\"; the benchmarks are: %s\n",
                   key.c_str(), KnownKeys().c_str());
      return kExitUsage;
    }
    if (std::find(options.only.begin(), options.only.end(), key) == options.only.end())
      options.only.push_back(key);
  }
  auto usage = [](const char* flag, const Error& e) {
    std::fprintf(stderr, "dlrig bench: %s: %s\n", flag, e.message.c_str());
    return kExitUsage;
  };
  if (!sizes.empty()) {
    auto v = ParseList<size_t>(sizes, ParseSize);
    if (!v) return usage("--sizes", v.error());
    options.sizes = *v;
  }
  if (!dtypes.empty()) {
    auto v = ParseList<DType>(dtypes, [](const std::string& s) -> Result<DType> {
      if (auto d = DTypeFromName(s)) return *d;
      return Fail(ErrorKind::kMalformed,
                  fmt::format("\"{}\" is not one of fp64, fp32, tf32, fp16, bf16, fp8, int8", s));
    });
    if (!v) return usage("--dtypes", v.error());
    options.dtypes = *v;
  }
  if (!storage_rw.empty()) {
    auto v = ParseList<StoragePattern>(storage_rw, [](const std::string& s) { return ParseStoragePattern(s); });
    if (!v) return usage("--rw", v.error());
    options.storage.patterns = *v;
  }
  if (!gpus.empty()) {
    auto v = ParseList<int>(gpus, [](const std::string& s) -> Result<int> {
      auto n = ParseInt(s);
      if (!n || *n < 0 || *n > 1023 || s.find_first_not_of("0123456789") != std::string::npos)
        return Fail(ErrorKind::kMalformed, fmt::format("\"{}\" is not a GPU index", s));
      return static_cast<int>(*n);
    });
    if (!v) return usage("--gpu", v.error());
    options.devices = *v;
  }
  if (backend_name != "null" && app.count("--null-gpus"))
    return usage("--null-gpus", Error{ErrorKind::kMalformed, "only with --backend null"});

  // The backend is what the user named: a machine without a usable GPU is an error, never a
  // silent switch to the model.
  std::unique_ptr<Backend> backend;
  if (backend_name == "null") {
    backend = MakeNullBackend(NullOptions{.devices = null_gpus});
  } else {
    auto opened = OpenCudaBackend();
    // Storage needs no GPU: on a machine without one it still runs, on the host alone.
    bool host_only = !options.only.empty() &&
                     std::all_of(options.only.begin(), options.only.end(),
                                 [](const std::string& k) { return k == "storage"; });
    if (!opened && host_only) {
      std::fprintf(stderr, "dlrig bench: no GPU (%s); storage runs on the host alone\n",
                   opened.error().message.c_str());
      opened = MakeNullBackend(NullOptions{.devices = 0, .name = "host"});
    }
    if (!opened) {
      std::fprintf(stderr,
                   "dlrig bench: cannot use the GPUs: %s\n"
                   "run `dlrig doctor` to find which layer is broken (`--backend null` runs the "
                   "harness on a model, without a GPU)\n",
                   opened.error().message.c_str());
      return kExitErrors;
    }
    backend = std::move(*opened);
  }
  for (int g : options.devices) {
    bool known = std::any_of(backend->devices().begin(), backend->devices().end(),
                             [g](const DeviceInfo& d) { return d.index == g; });
    if (!known) {
      std::vector<std::string> have;
      for (const DeviceInfo& d : backend->devices()) have.push_back(std::to_string(d.index));
      std::fprintf(stderr, "dlrig bench: --gpu %d: no such GPU (this backend has: %s)\n", g,
                   have.empty() ? "none" : fmt::format("{}", fmt::join(have, ", ")).c_str());
      return kExitUsage;
    }
  }

  BenchRun run;
  run.dlrig_version = DLRIG_VERSION;
  run.started_ms = NowMs();
  run.host = Hostname();
  run.profile = ProfileName(options.profile);
  run.backend = backend->name();
  run.driver = backend->driver();
  run.devices = backend->devices();
  if (backend_name == "null")
    std::fprintf(stderr, "dlrig bench: backend null: figures are modelled, not measured\n");
  run.results = RunBenchmarks(*backend, options, [](std::string_view line) {
    std::fprintf(stderr, "dlrig bench: %.*s\n", static_cast<int>(line.size()), line.data());
  });
  run.libraries = backend->libraries();  // after the run: what it loaded

  // The results reach stdout first: a broken file or history never costs the run.
  if (as_json)
    Out(Dump(BenchJson(run)));
  else
    Out(BenchText(run, !no_colour && StdoutWantsColour()));
  std::fflush(stdout);
  int code = BenchExitCode(run.results);
  if (!html.empty()) {
    if (auto ok = WriteFileAtomically(html, BenchHtml(run)); !ok) {
      std::fprintf(stderr, "dlrig bench: %s\n", ok.error().message.c_str());
      code = kExitErrors;
    } else {
      std::fprintf(stderr, "dlrig bench: wrote %s\n", html.c_str());
    }
  }
  bool store = !no_history && (backend_name != "null" || !db.empty());
  if (store) {
    auto history_path = HistoryPath(db);
    Result<int64_t> id = tl::unexpected(Error{ErrorKind::kIo, ""});
    if (!history_path) {
      id = tl::unexpected(history_path.error());
    } else {
      auto history = BenchHistory::Open(*history_path, HistoryAccess::kReadWrite);
      id = history ? history->Store(run) : Result<int64_t>(tl::unexpected(history.error()));
    }
    if (id)
      std::fprintf(stderr, "dlrig bench: stored as run %lld in %s\n", static_cast<long long>(*id),
                   history_path->c_str());
    else
      std::fprintf(stderr, "dlrig bench: warning: the run was not stored in the history: %s\n",
                   id.error().message.c_str());
  }
  return code;
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "list") return RunList(rest);
    if (args[0] == "compare") return RunCompare(rest);
    if (args[0] == "history") return RunHistoryList(rest);
  }
  return RunRun(args);
}

}  // namespace dlrig
