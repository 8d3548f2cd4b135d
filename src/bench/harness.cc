#include "bench/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace dlrig::bench {

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kQuick: return "quick";
    case Profile::kDefault: return "default";
    case Profile::kFull: return "full";
  }
  return "?";
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kGood: return "good";
    case Verdict::kFair: return "fair";
    case Verdict::kLow: return "low";
    case Verdict::kPassed: return "passed";
    case Verdict::kFailed: return "failed";
    case Verdict::kInfo: return "info";
    case Verdict::kWaived: return "waived";
    case Verdict::kError: return "error";
  }
  return "?";
}

SamplePlan PlanFor(Profile profile) {
  switch (profile) {
    case Profile::kQuick: return {.warmup_seconds = 0.05, .sample_seconds = 0.02, .repeats = 3};
    case Profile::kDefault: return {.warmup_seconds = 0.3, .sample_seconds = 0.1, .repeats = 5};
    case Profile::kFull: return {.warmup_seconds = 2.0, .sample_seconds = 0.25, .repeats = 9};
  }
  return {};
}

SamplePlan Context::HeadlinePlan(double min_warmup_seconds, double min_sample_seconds, int min_repeats) const {
  SamplePlan plan = this->plan();
  if (options_.profile == Profile::kQuick) return plan;
  plan.warmup_seconds = std::max(plan.warmup_seconds, min_warmup_seconds);
  plan.sample_seconds = std::max(plan.sample_seconds, min_sample_seconds);
  plan.repeats = std::max(plan.repeats, min_repeats);
  return plan;
}

void Summarize(Measurement& m) {
  if (m.samples.empty()) return;
  std::vector<double> v = m.samples;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  m.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  m.min = v.front();
  m.max = v.back();
}

void Judge(Measurement& m, std::optional<double> goal, std::optional<double> problem) {
  m.goal = goal;
  if (m.limits.empty() || m.limits.front().value <= 0 || m.samples.empty()) {
    m.verdict = Verdict::kInfo;
    return;
  }
  m.ratio = m.median / m.limits.front().value;
  if (goal && *m.ratio >= *goal) {
    m.verdict = Verdict::kGood;
  } else if (problem && *m.ratio < *problem) {
    m.verdict = Verdict::kLow;
  } else if (goal) {
    m.verdict = Verdict::kFair;
  } else {
    m.verdict = Verdict::kInfo;
  }
}

Result<std::vector<double>> Sample(TimedOp& op, double work_per_iteration, const SamplePlan& plan) {
  // Warm-up doubles the iterations until the warm-up time is spent; the last round also tells
  // how long one iteration takes.
  int iterations = 1;
  double spent = 0;
  double per_iteration = 0;
  for (;;) {
    auto t = op.Time(iterations);
    if (!t) return tl::unexpected(t.error());
    if (!(*t > 0)) return Fail(ErrorKind::kIo, fmt::format("the device timed {} iterations as {} s", iterations, *t));
    spent += *t;
    per_iteration = *t / iterations;
    if (spent >= plan.warmup_seconds || iterations >= plan.max_iterations) break;
    iterations = std::min(plan.max_iterations, iterations * 2);
  }
  double wanted = std::ceil(plan.sample_seconds / per_iteration);
  iterations = static_cast<int>(std::clamp(wanted, 1.0, static_cast<double>(plan.max_iterations)));
  std::vector<double> figures;
  for (int r = 0; r < plan.repeats; ++r) {
    auto t = op.Time(iterations);
    if (!t) return tl::unexpected(t.error());
    if (!(*t > 0)) return Fail(ErrorKind::kIo, fmt::format("the device timed {} iterations as {} s", iterations, *t));
    figures.push_back(work_per_iteration * iterations / *t);
  }
  return figures;
}

std::vector<int> Context::Devices() const {
  if (!options_.devices.empty()) return options_.devices;
  std::vector<int> all;
  for (const DeviceInfo& d : backend_.devices()) all.push_back(d.index);
  return all;
}

const Benchmark* FindBenchmark(std::string_view key) {
  for (const Benchmark& b : Benchmarks()) {
    if (key == b.key) return &b;
  }
  return nullptr;
}

namespace {

bool Selected(const Benchmark& b, const Options& options) {
  if (!options.only.empty()) {
    return std::find(options.only.begin(), options.only.end(), b.key) != options.only.end();
  }
  switch (options.profile) {
    case Profile::kQuick: return b.quick;
    case Profile::kDefault: return b.defaults;
    case Profile::kFull: return true;
  }
  return false;
}

}  // namespace

std::vector<Measurement> RunBenchmarks(Backend& backend, const Options& options,
                                       const std::function<void(std::string_view)>& progress) {
  std::vector<Measurement> out;
  for (const Benchmark& b : Benchmarks()) {
    if (!Selected(b, options)) continue;
    Context context(backend, options, progress);
    auto started = std::chrono::steady_clock::now();
    if (auto why = b.waived(context)) {
      out.push_back({.key = b.key, .bench = b.key, .verdict = Verdict::kWaived, .message = *why});
      context.Progress(fmt::format("{}: waived: {}", b.key, *why));
      continue;
    }
    context.Progress(fmt::format("{}: {}", b.key, b.description));
    b.run(context);
    for (const Measurement& m : context.results()) {
      out.push_back(m);
      if (out.back().bench.empty()) out.back().bench = b.key;
    }
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    context.Progress(fmt::format("{}: done in {:.1f} s", b.key, took));
  }
  return out;
}

Measurement Measure(Context& context, std::string key, const std::vector<int>& devices,
                    std::string unit, TimedOp& op, double work_per_iteration) {
  return Measure(context, std::move(key), devices, std::move(unit), op, work_per_iteration, context.plan());
}

Measurement Measure(Context& context, std::string key, const std::vector<int>& devices,
                    std::string unit, TimedOp& op, double work_per_iteration, const SamplePlan& plan) {
  Measurement m{.key = std::move(key), .unit = std::move(unit)};
  if (devices.size() == 1) m.device = devices.front();
  auto started = std::chrono::steady_clock::now();
  auto watch = context.backend().Watch(devices);
  watch->Begin();
  auto figures = Sample(op, work_per_iteration, plan);
  m.telemetry = watch->End();
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!figures) {
    m.verdict = Verdict::kError;
    m.message = figures.error().message;
    return m;
  }
  m.samples = std::move(*figures);
  Summarize(m);
  return m;
}

}  // namespace dlrig::bench
