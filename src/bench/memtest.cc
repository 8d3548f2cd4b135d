// memtest: cuda_memtest's patterns (DCGM's memtest runs the same list) over most of each GPU's
// free memory. Any word that reads back wrong fails the GPU; there is no limit to compare with.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"

namespace dlrig::bench {
namespace {

struct PatternInfo {
  MemtestPattern pattern;
  const char* name;  ///< the key is memtest.<name>: stable
  bool fast;         ///< part of the default run
};

// cuda_memtest's test numbers in brackets (README.md, "Test 0" ...).
constexpr PatternInfo kPatterns[] = {
    {MemtestPattern::kWalkingOnes, "walking_ones", true},                   // [0] address lines
    {MemtestPattern::kOwnAddress, "own_address", true},                     // [1]
    {MemtestPattern::kMovingInversions, "moving_inversions", true},         // [2] ones and zeros
    {MemtestPattern::kMovingInversions8, "moving_inversions_8bit", false},  // [3]
    {MemtestPattern::kRandom, "random", true},                              // [4]
    {MemtestPattern::kModulo20, "modulo_20", false},                        // [8]
};

// DCGM's memory plugin takes 75 % and gpu-burn 90 % of free memory; the rest is left for the
// driver's own allocations that the chunks must not starve.
constexpr double kMemoryFraction = 0.9;
constexpr size_t kAddressesShown = 8;

struct RunPlan {
  std::vector<const PatternInfo*> patterns;
  int iterations = 1;
};

RunPlan PlanOf(Profile profile) {
  RunPlan plan;
  for (const PatternInfo& p : kPatterns) {
    if (profile == Profile::kFull || p.fast) plan.patterns.push_back(&p);
  }
  plan.iterations = profile == Profile::kFull ? 2 : 1;
  return plan;
}

// Fixed seeds, so that a failure can be rerun with the same data; each iteration its own.
uint32_t SeedOf(int iteration) {
  return 0x6d656d74U + 0x9e3779b9U * static_cast<uint32_t>(iteration);
}

std::string Gib(double bytes) { return fmt::format("{:.1f} GiB", bytes / (1ull << 30)); }

std::string Addresses(const std::vector<uint64_t>& bad, long long errors) {
  std::string out;
  for (size_t i = 0; i < bad.size() && i < kAddressesShown; ++i) {
    out += fmt::format("{}{:#014x}", i ? ", " : "", bad[i]);
  }
  long long unshown = errors - static_cast<long long>(std::min(bad.size(), kAddressesShown));
  if (unshown > 0) out += fmt::format(" and {} more", unshown);
  return out;
}

struct PatternRun {
  Measurement measurement;
  bool stopped = false;  ///< the GPU failed part-way: ask it for nothing more
};

// One pattern on one GPU, every iteration: the errors of all of them; a failure part-way keeps
// what the finished iterations found.
PatternRun RunPattern(Context& context, MemtestOp& op, int device, const PatternInfo& pattern,
                      int iterations) {
  Measurement m{.key = fmt::format("memtest.{}", pattern.name),
                .bench = "memtest",
                .device = device,
                .unit = "errors"};
  auto started = std::chrono::steady_clock::now();
  auto watch = context.backend().Watch({device});
  watch->Begin();
  long long errors = 0;
  long long words = 0;
  double device_seconds = 0;
  std::vector<uint64_t> bad;
  std::vector<std::string> seeds;
  std::optional<Error> failure;
  int done = 0;
  for (; done < iterations; ++done) {
    uint32_t seed = SeedOf(done);
    auto pass = op.Run(pattern.pattern, seed);
    if (!pass) {
      failure = pass.error();
      break;
    }
    seeds.push_back(fmt::format("{:#010x}", seed));
    errors += pass->errors;
    words += pass->words;
    device_seconds += pass->seconds;
    bad.insert(bad.end(), pass->bad_offsets.begin(), pass->bad_offsets.end());
  }
  m.telemetry = watch->End();
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::sort(bad.begin(), bad.end());
  bad.erase(std::unique(bad.begin(), bad.end()), bad.end());

  m.params["bytes"] = std::to_string(op.bytes());
  if (const DeviceInfo* info = FindDevice(context.backend(), device); info && info->memory_total > 0) {
    m.params["coverage"] = fmt::format(
        "{:.1f}% of {}",
        100.0 * static_cast<double>(op.bytes()) / static_cast<double>(info->memory_total),
        Gib(static_cast<double>(info->memory_total)));
  }
  m.params["iterations"] = fmt::format("{} of {}", done, iterations);
  m.params["seeds"] = fmt::format("{}", fmt::join(seeds, ","));
  m.params["words_checked"] = std::to_string(words);
  m.params["device_seconds"] = fmt::format("{:.3f}", device_seconds);
  // Walking ones touches a few words per MiB: a rate of it would mean nothing.
  if (pattern.pattern != MemtestPattern::kWalkingOnes && device_seconds > 0) {
    m.params["checked_gb_per_s"] =
        fmt::format("{:.1f}", 4.0 * static_cast<double>(words) / device_seconds / 1e9);
  }
  if (done > 0) {
    m.samples = {static_cast<double>(errors)};
    Summarize(m);
  }
  std::vector<std::string> notes;
  if (errors > 0) {
    m.verdict = Verdict::kFailed;
    notes.push_back(fmt::format("{} words read back wrong; bad addresses (device virtual): {}",
                                errors, Addresses(bad, errors)));
  } else {
    m.verdict = failure ? Verdict::kError : Verdict::kPassed;
  }
  if (failure) {
    notes.push_back(
        fmt::format("stopped after {} of {} iterations: {}", done, iterations, failure->message));
  }
  if (const DeviceInfo* info = FindDevice(context.backend(), device)) {
    // memory_free is from when the GPUs were opened: a shortfall of a few percent is noise.
    double asked = static_cast<double>(info->memory_free) * kMemoryFraction;
    if (static_cast<double>(op.bytes()) < 0.95 * asked) {
      notes.push_back(fmt::format("tested {} of the {} asked: the allocator gave no more",
                                  Gib(static_cast<double>(op.bytes())), Gib(asked)));
    }
  }
  m.message = fmt::format("{}", fmt::join(notes, "; "));
  return {std::move(m), failure.has_value()};
}

void RunDevice(Context& context, int device, const RunPlan& plan) {
  auto op = context.backend().Memtest({.device = device, .memory_fraction = kMemoryFraction});
  if (!op) {
    // No device kernels in this build (or none for this GPU) is a waiver, not a fault.
    bool unsupported = op.error().kind == ErrorKind::kUnsupported;
    context.Add({.key = "memtest",
                 .bench = "memtest",
                 .device = device,
                 .unit = "errors",
                 .verdict = unsupported ? Verdict::kWaived : Verdict::kError,
                 .message = op.error().message});
    return;
  }
  context.Progress(fmt::format("memtest: GPU {}: {} of memory, {} pattern(s) x {}", device,
                               Gib(static_cast<double>((*op)->bytes())), plan.patterns.size(),
                               plan.iterations));
  for (size_t i = 0; i < plan.patterns.size(); ++i) {
    auto [m, stopped] = RunPattern(context, **op, device, *plan.patterns[i], plan.iterations);
    context.Progress(fmt::format("memtest: GPU {} {}: {} ({} errors, {} s)", device,
                                 plan.patterns[i]->name, VerdictName(m.verdict), m.median,
                                 m.params["device_seconds"]));
    if (stopped && i + 1 < plan.patterns.size()) {
      // A lost or hung GPU is not asked for more; another GPU may still be fine.
      std::vector<std::string> rest;
      for (size_t j = i + 1; j < plan.patterns.size(); ++j) rest.push_back(plan.patterns[j]->name);
      m.message += fmt::format("; not run on this GPU: {}", fmt::join(rest, ", "));
    }
    context.Add(std::move(m));
    if (stopped) return;
  }
}

std::optional<std::string> Waived(const Context& context) {
  if (context.Devices().empty()) return "no GPU";
  return std::nullopt;
}

void Run(Context& context) {
  RunPlan plan = PlanOf(context.options().profile);
  for (int device : context.Devices()) RunDevice(context, device, plan);
}

}  // namespace

const Benchmark kMemtestBenchmark = {
    .key = "memtest",
    .description = "cuda_memtest patterns over 90% of free GPU memory: any bad word fails the GPU",
    .formula =
        "errors = 32-bit words that read back wrong; checked GB/s = 4 x words checked / device "
        "time",
    .waived = Waived,
    .run = Run,
    .quick = false,
    .defaults = true,
};

}  // namespace dlrig::bench
