#include "bench/cuda_telemetry.h"

#include <algorithm>

#include "monitor/sampler.h"

namespace dlrig::bench {
namespace {

constexpr auto kInterval = std::chrono::milliseconds(100);

class SamplerWatch final : public TelemetryWatch {
 public:
  SamplerWatch(Sampler& sampler, std::vector<int> indices) : sampler_(sampler), indices_(std::move(indices)) {}

  void Begin() override {
    auto latest = sampler_.Latest();
    begin_ = latest ? latest->sequence : 0;
  }

  std::vector<Telemetry> End() override {
    // A run shorter than the interval may have no sample of its own: then the next one stands
    // for it (taken just after, so its clocks may already be falling).
    auto latest = sampler_.Latest();
    if (!latest || latest->sequence <= begin_) sampler_.WaitNewer(latest ? latest->sequence : 0, 2 * kInterval);
    std::vector<Telemetry> out(indices_.size());
    for (const auto& snap : sampler_.Recent()) {
      if (snap->sequence <= begin_) continue;
      for (size_t i = 0; i < indices_.size(); ++i) {
        int n = indices_[i];
        if (n < 0 || n >= static_cast<int>(snap->nvml.devices.size())) continue;
        Add(out[i], snap->nvml.devices[n]);
      }
    }
    return out;
  }

 private:
  static void Add(Telemetry& t, const GpuFacts& f) {
    ++t.samples;
    auto mean = [&](std::optional<double>& slot, double v) {
      slot = slot ? *slot + (v - *slot) / t.samples : v;
    };
    if (f.clock_sm_mhz) {
      double v = static_cast<double>(*f.clock_sm_mhz);
      mean(t.sm_clock_mean_mhz, v);
      t.sm_clock_min_mhz = t.sm_clock_min_mhz ? std::min(*t.sm_clock_min_mhz, v) : v;
    }
    if (f.clock_memory_mhz) mean(t.memory_clock_mean_mhz, static_cast<double>(*f.clock_memory_mhz));
    if (f.power_mw) {
      double w = static_cast<double>(*f.power_mw) / 1000;
      mean(t.power_mean_w, w);
      t.power_max_w = t.power_max_w ? std::max(*t.power_max_w, w) : w;
    }
    if (f.temperature_c) {
      double c = static_cast<double>(*f.temperature_c);
      t.temperature_max_c = t.temperature_max_c ? std::max(*t.temperature_max_c, c) : c;
    }
    if (f.clock_event_reasons) {
      for (const std::string& name : ClockEventNames(*f.clock_event_reasons)) {
        if (std::find(t.throttle_reasons.begin(), t.throttle_reasons.end(), name) == t.throttle_reasons.end()) {
          t.throttle_reasons.push_back(name);
        }
      }
    }
  }

  Sampler& sampler_;
  std::vector<int> indices_;
  uint64_t begin_ = 0;
};

class SamplerSource final : public TelemetrySource {
 public:
  SamplerSource()
      : sampler_(SamplerOptions{.interval = kInterval, .keep = 3000, .processes = false,
                                .pcie_throughput = false, .kernel_log = false}) {
    sampler_.Start();
  }
  std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& nvml_indices) override {
    return std::make_unique<SamplerWatch>(sampler_, nvml_indices);
  }

 private:
  Sampler sampler_;
};

}  // namespace

std::unique_ptr<TelemetrySource> StartTelemetry() { return std::make_unique<SamplerSource>(); }

}  // namespace dlrig::bench
