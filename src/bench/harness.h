// The benchmark harness: a registry of benchmarks with stable keys, the sampling loop
// (warm-up, calibration, repeats, median and spread), and the measurements they produce.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/backend.h"
#include "bench/limits.h"
#include "bench/storage.h"
#include "core/result.h"

namespace dlrig::bench {

enum class Profile { kQuick, kDefault, kFull };
std::string_view ProfileName(Profile profile);

/// How one figure is sampled: `warmup` untimed seconds of the operation, then `repeats`
/// samples, each of enough iterations to last `sample_seconds` (at least 1, at most
/// `max_iterations`).
struct SamplePlan {
  double warmup_seconds = 0.2;
  double sample_seconds = 0.05;
  int repeats = 5;
  int max_iterations = 1 << 20;
};
SamplePlan PlanFor(Profile profile);

enum class Verdict {
  kGood,    ///< at or above the goal ratio of the limit
  kFair,    ///< below the goal but above the problem line
  kLow,     ///< below the problem line: something is wrong
  kPassed,  ///< a test without a limit that found no error (burn, memtest)
  kFailed,  ///< a test that found errors
  kInfo,    ///< a figure with no limit to judge it by
  kWaived,  ///< not run: the machine lacks what it needs (not a failure)
  kError,   ///< it could not run or stopped part-way; the message says why
};
std::string_view VerdictName(Verdict verdict);

struct Measurement {
  std::string key;    ///< stable: "gemm.bf16.8192x8192x8192", "pcie.h2d.pinned", ...
  std::string bench;  ///< the benchmark that made it: "gemm"
  std::optional<int> device;  ///< GPU index, when the figure is one GPU's
  std::string unit;   ///< "TFLOP/s", "GB/s", "us", "errors"
  std::vector<double> samples;  ///< one figure per repeat, in the unit above
  double median = 0;
  double min = 0;
  double max = 0;
  std::vector<LimitFigure> limits;  ///< first = the one the ratio and verdict use
  std::optional<double> ratio;      ///< median / limits[0].value
  std::optional<double> goal;       ///< ratio at or above which the verdict is good
  Verdict verdict = Verdict::kInfo;
  std::string message;  ///< waiver reason, error, or a note ("NVLS on: busbw may exceed the wire")
  std::map<std::string, std::string> params;  ///< bytes, algorithm, threads, ...
  std::vector<Telemetry> telemetry;  ///< one per GPU involved, while it ran
  double seconds = 0;  ///< wall time the figure took, warm-up included
  /// Clock, power and temperature over a long run (burn), one point per step.
  struct Point {
    double t = 0;  ///< seconds since the run started
    Telemetry telemetry;
    double figure = 0;  ///< the step's figure, in `unit`
  };
  std::vector<Point> timeline;
};

/// Sets median/min/max from samples.
void Summarize(Measurement& m);
/// Sets ratio and verdict from the first limit and the goal/problem ratios.
void Judge(Measurement& m, std::optional<double> goal, std::optional<double> problem);

/// Samples `op`: warm-up, calibration of iterations, then plan.repeats samples. Each sample's
/// figure = work_per_iteration x iterations / seconds (in the caller's unit). A failure of the
/// operation part-way returns the error; the caller keeps what finished.
Result<std::vector<double>> Sample(TimedOp& op, double work_per_iteration, const SamplePlan& plan);

struct Options {
  Profile profile = Profile::kDefault;
  std::vector<std::string> only;   ///< benchmark keys to run; empty = all of the profile
  std::vector<int> devices;        ///< GPUs to use; empty = all
  std::string storage_path;        ///< storage benchmark directory; "" = waived
  double burn_seconds = 0;         ///< 0 = the profile's default
  std::vector<size_t> sizes;       ///< override the size sweep where a benchmark has one
  std::vector<DType> dtypes;       ///< override gemm dtypes
  /// Storage overrides, as fio's numjobs / iodepth / runtime / size / bs; 0 = the profile's.
  struct Storage {
    int threads = 0;
    int queue_depth = 0;
    double seconds = 0;
    uint64_t file_bytes = 0;
    uint64_t block_bytes = 0;  ///< sequential patterns; random ones stay at 4 KiB
    std::vector<StoragePattern> patterns;  ///< the patterns to run; empty = the profile's
  } storage;
};

/// What a running benchmark sees and writes to.
class Context {
 public:
  Context(Backend& backend, const Options& options,
          std::function<void(std::string_view)> progress = {})
      : backend_(backend), options_(options), progress_(std::move(progress)) {}
  Backend& backend() { return backend_; }
  const Backend& backend() const { return backend_; }
  const Options& options() const { return options_; }
  SamplePlan plan() const { return PlanFor(options_.profile); }
  /// The plan for a judged headline figure that needs longer sampling than the profile's: each
  /// field raised to at least the given value, except under --quick, which keeps its plan.
  SamplePlan HeadlinePlan(double min_warmup_seconds, double min_sample_seconds, int min_repeats) const;
  /// The GPUs this run uses (options().devices, or every device).
  std::vector<int> Devices() const;
  void Progress(std::string_view line) const {
    if (progress_) progress_(line);
  }
  void Add(Measurement m) { results_.push_back(std::move(m)); }
  const std::vector<Measurement>& results() const { return results_; }

 private:
  Backend& backend_;
  const Options& options_;
  std::function<void(std::string_view)> progress_;
  std::vector<Measurement> results_;
};

struct Benchmark {
  const char* key;          ///< "gemm"
  const char* description;  ///< one line
  const char* formula;      ///< time -> figure, e.g. "2*m*n*k / t"
  /// Why this machine cannot run it ("needs >= 2 GPUs with P2P"), or nullopt to run it.
  std::optional<std::string> (*waived)(const Context& context);
  void (*run)(Context& context);
  bool quick;  ///< part of --quick
  bool defaults;  ///< part of the default profile (--full runs everything)
};

/// Every benchmark, in the order a run takes them.
std::span<const Benchmark> Benchmarks();
const Benchmark* FindBenchmark(std::string_view key);

/// Samples `op` while watching `devices`: samples, median, telemetry and wall time filled in, or
/// verdict kError with the reason when the operation failed part-way.
Measurement Measure(Context& context, std::string key, const std::vector<int>& devices,
                    std::string unit, TimedOp& op, double work_per_iteration);
/// The same with a plan of the caller's (a figure that needs a longer warm-up).
Measurement Measure(Context& context, std::string key, const std::vector<int>& devices,
                    std::string unit, TimedOp& op, double work_per_iteration, const SamplePlan& plan);

/// Runs the benchmarks the options select, each waived, run, or stopped with an error, never
/// thrown: a benchmark that fails leaves its measurements and an error entry.
std::vector<Measurement> RunBenchmarks(Backend& backend, const Options& options,
                                       const std::function<void(std::string_view)>& progress);

}  // namespace dlrig::bench
