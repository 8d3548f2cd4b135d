// burn: gpu-burn's stress test on every selected GPU at once (one thread per GPU): the same
// product into most of memory, every result compared with the first, for a set time. Any
// mismatch is silent data corruption; the timeline shows clocks, power and temperature as the
// GPU heats up.
#include "bench/bench_util.h"
#include "bench/burn.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "bench/benchmarks.h"
#include "bench/goals.h"

namespace dlrig::bench {

std::optional<std::string> BurnDTypeMissing(DType dtype, int cc_major, int cc_minor) {
  const int cc = cc_major * 10 + cc_minor;
  auto needs = [&](int want) -> std::optional<std::string> {
    if (cc >= want) return std::nullopt;
    return fmt::format("burn {} needs compute capability {}.{}+; this GPU is {}.{}",
                       DTypeName(dtype), want / 10, want % 10, cc_major, cc_minor);
  };
  switch (dtype) {
    case DType::kFp64:
    case DType::kFp32:
      return std::nullopt;
    case DType::kFp16:
      return needs(70);
    case DType::kTf32:
    case DType::kBf16:
      return needs(80);
    case DType::kFp8E4M3:
    case DType::kInt8:
      break;
  }
  return fmt::format("burn runs fp64, fp32, tf32, fp16 and bf16, not {}", DTypeName(dtype));
}

std::vector<DType> BurnDTypesFor(int cc_major, int cc_minor) {
  const int cc = cc_major * 10 + cc_minor;
  if (cc >= 80) return {DType::kBf16, DType::kFp32};
  if (cc >= 70) return {DType::kFp16, DType::kFp32};
  return {DType::kFp32};
}

double BurnSeconds(const Options& options) {
  if (options.burn_seconds > 0) return options.burn_seconds;
  switch (options.profile) {
    case Profile::kQuick:
      return 10;
    case Profile::kDefault:
      return 30;
    case Profile::kFull:
      return 600;
  }
  return 30;
}

double BurnTolerance(DType dtype) {
  switch (dtype) {
    case DType::kFp64:
      return 1e-12;
    case DType::kFp16:
      return 1e-4;
    case DType::kBf16:
      return 1e-3;
    default:
      return 1e-6;  // fp32, tf32 (fp32 results)
  }
}

std::string BurnKey(DType dtype) { return fmt::format("burn.{}", DTypeName(dtype)); }

namespace {

// Steps shorter than this are gathered into one timeline point, so that a long run of short
// steps (a small GPU, or the null model's milliseconds) keeps a timeline of readable size.
constexpr double kPointSeconds = 1.0;

// The telemetry of several watches as one: sample-weighted means, extremes, every throttle
// reason seen.
Telemetry Merge(const std::vector<Telemetry>& parts) {
  Telemetry out;
  double sm = 0, sm_n = 0, mem = 0, mem_n = 0, power = 0, power_n = 0;
  for (const Telemetry& t : parts) {
    const double w = std::max(t.samples, 1);
    out.samples += t.samples;
    if (t.sm_clock_mean_mhz) sm += w * *t.sm_clock_mean_mhz, sm_n += w;
    if (t.memory_clock_mean_mhz) mem += w * *t.memory_clock_mean_mhz, mem_n += w;
    if (t.power_mean_w) power += w * *t.power_mean_w, power_n += w;
    if (t.sm_clock_min_mhz)
      out.sm_clock_min_mhz =
          std::min(out.sm_clock_min_mhz.value_or(*t.sm_clock_min_mhz), *t.sm_clock_min_mhz);
    if (t.power_max_w)
      out.power_max_w = std::max(out.power_max_w.value_or(*t.power_max_w), *t.power_max_w);
    if (t.temperature_max_c)
      out.temperature_max_c =
          std::max(out.temperature_max_c.value_or(*t.temperature_max_c), *t.temperature_max_c);
    for (const auto& r : t.throttle_reasons) {
      if (std::find(out.throttle_reasons.begin(), out.throttle_reasons.end(), r) ==
          out.throttle_reasons.end())
        out.throttle_reasons.push_back(r);
    }
  }
  if (sm_n > 0) out.sm_clock_mean_mhz = sm / sm_n;
  if (mem_n > 0) out.memory_clock_mean_mhz = mem / mem_n;
  if (power_n > 0) out.power_mean_w = power / power_n;
  return out;
}

// Backend calls other than Step() are made one thread at a time: the backend promises no more.
struct Shared {
  Backend& backend;
  std::mutex mutex;
};

// One dtype on one GPU for `seconds`: the measurement, never thrown; `failed` when the GPU
// stopped part-way (what finished is kept).
Measurement BurnOne(Shared& shared, const DeviceInfo& device, DType dtype, double seconds,
                    bool& failed) {
  failed = false;
  Measurement m{.key = BurnKey(dtype), .bench = "burn", .device = device.index, .unit = "TFLOP/s"};
  m.params["dtype"] = DTypeName(dtype);
  m.params["formula"] = "2*n^3*slots / t per step";
  const auto started = std::chrono::steady_clock::now();
  auto since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  const BurnSpec spec{.device = device.index, .dtype = dtype};
  Result<std::unique_ptr<BurnOp>> op = [&] {
    std::lock_guard lock(shared.mutex);
    return shared.backend.Burn(spec);
  }();
  if (!op) {
    const bool waived =
        op.error().kind == ErrorKind::kUnsupported || op.error().kind == ErrorKind::kNotFound;
    m.verdict = waived ? Verdict::kWaived : Verdict::kError;
    m.message = op.error().message;
    failed = !waived;
    m.seconds = since();
    return m;
  }
  m.params["n"] = std::to_string(spec.n);
  m.params["slots"] = std::to_string((*op)->slots());
  m.params["tolerance"] = fmt::format("{:g} relative", BurnTolerance(dtype));

  long long steps = 0, mismatches = 0;
  double device_seconds = 0;
  // The run's clock: wall time, or the device time where that is longer (a backend that
  // models its operations spends none of the time it reports).
  auto elapsed = [&] { return std::max(since(), device_seconds); };
  struct {
    double flop = 0, seconds = 0;
    std::vector<Telemetry> telemetry;
  } pending;
  double last_point = 0;
  std::vector<Telemetry> points_telemetry;
  auto flush = [&] {
    if (pending.telemetry.empty()) return;
    const double figure = pending.seconds > 0 ? pending.flop / pending.seconds / 1e12 : 0;
    if (figure > 0) m.samples.push_back(figure);
    last_point = elapsed();
    m.timeline.push_back(
        {.t = last_point, .telemetry = Merge(pending.telemetry), .figure = figure});
    points_telemetry.push_back(m.timeline.back().telemetry);
    pending = {};
  };
  std::optional<Error> failure;
  do {
    std::unique_ptr<TelemetryWatch> watch;
    {
      std::lock_guard lock(shared.mutex);
      watch = shared.backend.Watch({device.index});
      watch->Begin();
    }
    auto step = (*op)->Step();
    std::vector<Telemetry> telemetry;
    {
      std::lock_guard lock(shared.mutex);
      telemetry = watch->End();
    }
    if (!step) {
      failure = step.error();
      break;
    }
    ++steps;
    mismatches += step->mismatches;
    device_seconds += step->seconds;
    pending.flop += step->flop;
    pending.seconds += step->seconds;
    pending.telemetry.push_back(telemetry.empty() ? Telemetry{} : telemetry.front());
    if (elapsed() - last_point >= kPointSeconds) flush();
  } while (elapsed() < seconds);
  flush();  // the steps finished since the last point, a failure or not

  m.seconds = since();
  Summarize(m);
  if (!m.timeline.empty()) m.telemetry = {Merge(points_telemetry)};
  m.params["steps"] = std::to_string(steps);
  m.params["device_seconds"] = fmt::format("{:.3f}", device_seconds);
  m.params["errors"] = std::to_string(mismatches);
  std::vector<std::string> notes;
  if (mismatches > 0) {
    m.verdict = Verdict::kFailed;
    notes.push_back(
        fmt::format("{} result elements differed from the first slot in {} steps: "
                    "the GPU computes wrong results",
                    mismatches, steps));
  } else if (!failure) {
    m.verdict = Verdict::kPassed;
  }
  if (failure) {
    failed = true;
    if (m.verdict != Verdict::kFailed) m.verdict = Verdict::kError;
    notes.push_back(fmt::format("stopped after {} steps ({:.0f} s of {:.0f}): {}", steps, m.seconds,
                                seconds, failure->message));
  }
  // DCGM targeted_power's criterion, as a note: a GPU far below its power limit under this
  // load is held back by something (clocks, cooling, a power cap set low).
  if (!m.telemetry.empty() && m.telemetry.front().power_mean_w && device.power_limit_w &&
      *device.power_limit_w > 0) {
    const double ratio = *m.telemetry.front().power_mean_w / *device.power_limit_w;
    m.params["power_vs_limit"] = fmt::format("{:.2f}", ratio);
    const Goal goal = GoalFor("burn", "power");
    if (goal.good && ratio < *goal.good)
      notes.push_back(fmt::format(
          "mean power {:.0f} W is {:.0f}% of the {:.0f} W limit (DCGM "
          "targeted_power expects {:.0f}%)",
          *m.telemetry.front().power_mean_w, ratio * 100, *device.power_limit_w, *goal.good * 100));
  }
  for (const auto& n : notes) m.message += (m.message.empty() ? "" : "; ") + n;
  return m;
}

std::optional<std::string> BurnWaived(const Context& context) {
  if (context.Devices().empty()) return std::string("no GPU");
  return std::nullopt;
}

void RunBurn(Context& context) {
  const Options& options = context.options();
  const double seconds = BurnSeconds(options);
  Shared shared{context.backend(), {}};
  const std::vector<int> devices = context.Devices();
  std::vector<std::vector<Measurement>> results(devices.size());
  std::vector<std::thread> threads;
  context.Progress(fmt::format("burn: {:.0f} s on {} GPU(s)", seconds, devices.size()));
  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceInfo* device = FindDevice(context.backend(), devices[i]);
    if (device == nullptr) {
      results[i].push_back({.key = "burn",
                            .bench = "burn",
                            .device = devices[i],
                            .verdict = Verdict::kError,
                            .message = fmt::format("no GPU {}", devices[i])});
      continue;
    }
    threads.emplace_back([&, device, i] {
      // --dtypes names gemm's types; burn takes those it can run (not fp8, int8), else its own.
      std::vector<DType> dtypes;
      for (DType dtype : options.dtypes) {
        if (dtype != DType::kFp8E4M3 && dtype != DType::kInt8) dtypes.push_back(dtype);
      }
      if (dtypes.empty()) dtypes = BurnDTypesFor(device->cc_major, device->cc_minor);
      std::vector<DType> runnable;
      for (DType dtype : dtypes) {
        if (auto missing = BurnDTypeMissing(dtype, device->cc_major, device->cc_minor)) {
          results[i].push_back({.key = BurnKey(dtype),
                                .bench = "burn",
                                .device = device->index,
                                .verdict = Verdict::kWaived,
                                .message = *missing});
        } else {
          runnable.push_back(dtype);
        }
      }
      // The time is shared by the dtypes, run one after another with no pause between.
      for (DType dtype : runnable) {
        bool failed = false;
        results[i].push_back(BurnOne(shared, *device, dtype, seconds / runnable.size(), failed));
        if (failed) break;  // the GPU failed: its remaining dtypes would fail the same way
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& list : results) {
    for (auto& m : list) {
      context.Progress(fmt::format("{} GPU {}: {} {}", m.key, m.device.value_or(-1),
                                   VerdictName(m.verdict), m.message));
      context.Add(std::move(m));
    }
  }
}

}  // namespace

const Benchmark kBurnBenchmark = {
    .key = "burn",
    .description = "gpu-burn: the same product into most of memory, every result compared",
    .formula = "2*n^3*slots / t per step; verdict from mismatched elements",
    .waived = BurnWaived,
    .run = RunBurn,
    .quick = false,
    .defaults = true,
};

}  // namespace dlrig::bench
