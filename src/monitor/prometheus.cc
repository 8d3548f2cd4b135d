// Exposition format: https://prometheus.io/docs/instrumenting/exposition_formats/ (0.0.4);
// naming: https://prometheus.io/docs/practices/naming/ (base units, _total counters, _info).
#include "monitor/prometheus.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/version.h"
#include "knowledge/xids.h"
#include "monitor/processes.h"
#include "probe/pci.h"

namespace dlrig {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Families in the order first added; each keeps its samples together under one HELP/TYPE, as
// the format requires. A family that got no sample is not written at all.
class Exposition {
 public:
  void Add(const std::string& name, const char* type, const char* help, const Labels& labels,
           const std::string& value) {
    auto [it, added] = index_.try_emplace(name, families_.size());
    if (added) families_.push_back({name, type, help, ""});
    std::string& out = families_[it->second].samples;
    out += name;
    if (!labels.empty()) {
      out += '{';
      for (size_t i = 0; i < labels.size(); ++i)
        out += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first,
                           EscapeLabelValue(labels[i].second));
      out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
  }
  std::string Text() const {
    std::string text;
    for (const auto& f : families_)
      text +=
          fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", f.name, f.help, f.name, f.type, f.samples);
    return text;
  }

 private:
  struct Family {
    std::string name, type, help, samples;
  };
  std::vector<Family> families_;
  std::map<std::string, size_t> index_;
};

std::string Integer(long long v) { return std::to_string(v); }
// Shortest text that reads back as the same double; never NaN here (missing is left out).
std::string Real(double v) { return fmt::format("{}", v); }

template <class T>
std::optional<long long> Value(const Result<T>& r) {
  if (!r) return std::nullopt;
  return static_cast<long long>(*r);
}

std::string Or(const Result<std::string>& r) { return r ? *r : ""; }

// The Xid events of each GPU (by NVML index), matched on the PCI address.
std::map<int, std::vector<const XidEvent*>> XidsByGpu(const MonitorSnapshot& s) {
  std::map<std::string, int> by_address;
  for (const GpuFacts& g : s.nvml.devices)
    if (g.pci_bus_id)
      if (auto a = NormalizePciAddress(*g.pci_bus_id)) by_address[*a] = g.index;
  std::map<int, std::vector<const XidEvent*>> out;
  for (const XidEvent& e : s.xids) {
    auto a = NormalizePciAddress(e.pci_address);
    auto it = a ? by_address.find(*a) : by_address.end();
    out[it == by_address.end() ? -1 : it->second].push_back(&e);
  }
  return out;
}

// Every clock-event reason NVML defines a name for (in bit order).
const std::vector<std::pair<long long, std::string>>& KnownClockEvents() {
  static const auto* known = [] {
    auto* v = new std::vector<std::pair<long long, std::string>>;
    for (int bit = 0; bit < 63; ++bit) {
      auto names = ClockEventNames(1LL << bit);
      if (names.size() == 1 && !names[0].starts_with("0x")) v->emplace_back(1LL << bit, names[0]);
    }
    return v;
  }();
  return *known;
}

void NativeGpu(Exposition& x, const GpuFacts& g, const LibraryAnswers& nvml,
               const std::vector<const XidEvent*>& xids) {
  const Labels id = {{"gpu", std::to_string(g.index)}, {"uuid", Or(g.uuid)}};
  auto with = [&id](std::initializer_list<std::pair<std::string, std::string>> more) {
    Labels l = id;
    l.insert(l.end(), more.begin(), more.end());
    return l;
  };
  x.Add("dlrig_gpu_up", "gauge", "1 when NVML answered for this GPU, 0 when it did not (lost).", id,
        g.handle_code ? "0" : "1");
  Labels info = id;
  auto label = [&info](const char* name, const Result<std::string>& v) {
    if (v && !v->empty()) info.emplace_back(name, *v);
  };
  label("name", g.name);
  label("pci_bus_id", g.pci_bus_id);
  label("serial", g.serial);
  label("compute_capability", g.compute_capability);
  label("driver_version", nvml.driver_version);
  if (nvml.cuda_driver_version)
    info.emplace_back("cuda_driver_version", CudaVersionFromInt(*nvml.cuda_driver_version));
  x.Add("dlrig_gpu_info", "gauge", "Identity of a GPU as NVML describes it; always 1.", info, "1");

  auto gauge = [&](const char* name, const char* help, std::optional<long long> v) {
    if (v) x.Add(name, "gauge", help, id, Integer(*v));
  };
  // Divided, not multiplied by a fraction: 37 / 100.0 reads back as 0.37 exactly.
  auto scaled = [&](const char* name, const char* type, const char* help,
                    std::optional<long long> v, double divisor, const Labels& labels) {
    if (v) x.Add(name, type, help, labels, Real(static_cast<double>(*v) / divisor));
  };
  auto multiplied = [&](const char* name, const char* help, std::optional<long long> v,
                        long long factor) {
    if (v) x.Add(name, "gauge", help, id, Integer(*v * factor));
  };
  gauge("dlrig_gpu_memory_total_bytes", "Memory on the GPU.", Value(g.memory_total_bytes));
  gauge("dlrig_gpu_memory_used_bytes", "Memory allocated on the GPU.", Value(g.memory_used_bytes));
  gauge("dlrig_gpu_memory_free_bytes", "Memory free on the GPU.", Value(g.memory_free_bytes));
  scaled("dlrig_gpu_utilization_ratio", "gauge",
         "Share of the last sample period a kernel ran on the GPU (0-1).",
         Value(g.utilization_gpu_percent), 100, id);
  scaled("dlrig_gpu_memory_utilization_ratio", "gauge",
         "Share of the last sample period device memory was read or written (0-1).",
         Value(g.utilization_memory_percent), 100, id);
  gauge("dlrig_gpu_temperature_celsius", "GPU core temperature.", Value(g.temperature_c));
  gauge("dlrig_gpu_memory_temperature_celsius", "GPU memory temperature.",
        Value(g.memory_temperature_c));
  gauge("dlrig_gpu_slowdown_temperature_celsius", "Temperature at which the GPU slows down.",
        Value(g.temperature_slowdown_c));
  gauge("dlrig_gpu_shutdown_temperature_celsius", "Temperature at which the GPU shuts down.",
        Value(g.temperature_shutdown_c));
  scaled("dlrig_gpu_power_watts", "gauge", "Power draw.", Value(g.power_mw), 1000, id);
  scaled("dlrig_gpu_power_limit_watts", "gauge", "Enforced power limit.", Value(g.power_limit_mw),
         1000, id);
  scaled("dlrig_gpu_power_default_limit_watts", "gauge", "Default power limit.",
         Value(g.power_default_limit_mw), 1000, id);
  scaled("dlrig_gpu_energy_joules_total", "counter", "Energy used since the driver loaded.",
         Value(g.energy_mj), 1000, id);
  multiplied("dlrig_gpu_sm_clock_hertz", "SM clock.", Value(g.clock_sm_mhz), 1000000);
  multiplied("dlrig_gpu_memory_clock_hertz", "Memory clock.", Value(g.clock_memory_mhz), 1000000);
  multiplied("dlrig_gpu_graphics_clock_hertz", "Graphics clock.", Value(g.clock_graphics_mhz),
             1000000);
  multiplied("dlrig_gpu_sm_clock_max_hertz", "Highest SM clock.", Value(g.clock_sm_max_mhz),
             1000000);
  multiplied("dlrig_gpu_memory_clock_max_hertz", "Highest memory clock.",
             Value(g.clock_memory_max_mhz), 1000000);
  scaled("dlrig_gpu_fan_speed_ratio", "gauge", "Fan 0 speed as a share of its maximum (0-1).",
         Value(g.fan_percent), 100, id);
  gauge("dlrig_gpu_performance_state", "Performance state (0 = P0, fastest, to 15).",
        Value(g.performance_state));
  gauge("dlrig_gpu_pcie_link_generation", "Current PCIe link generation.", Value(g.pcie_gen_now));
  gauge("dlrig_gpu_pcie_link_generation_max", "Highest PCIe link generation.",
        Value(g.pcie_gen_max));
  gauge("dlrig_gpu_pcie_link_width", "Current PCIe link width (lanes).", Value(g.pcie_width_now));
  gauge("dlrig_gpu_pcie_link_width_max", "Widest PCIe link (lanes).", Value(g.pcie_width_max));
  // nvmlDeviceGetPcieThroughput answers in KB/s over a 20 ms window; taken as 1000 bytes per
  // KB, as NVML's documentation does not say 1024.
  multiplied("dlrig_gpu_pcie_transmit_bytes_per_second",
             "PCIe data sent by the GPU over NVML's 20 ms window.", Value(g.pcie_tx_kbps), 1000);
  multiplied("dlrig_gpu_pcie_receive_bytes_per_second",
             "PCIe data received by the GPU over NVML's 20 ms window.", Value(g.pcie_rx_kbps),
             1000);
  if (auto v = Value(g.pcie_replay_count))
    x.Add("dlrig_gpu_pcie_replays_total", "counter", "PCIe replays (retries) since boot.", id,
          Integer(*v));
  gauge("dlrig_gpu_ecc_enabled", "1 when ECC is on.", Value(g.ecc_enabled));
  const char* ecc_help = "ECC errors since the driver loaded.";
  const char* ecc_life = "ECC errors over the GPU's life.";
  auto counter = [&](const char* name, const char* help, std::optional<long long> v,
                     const Labels& labels) {
    if (v) x.Add(name, "counter", help, labels, Integer(*v));
  };
  counter("dlrig_gpu_ecc_errors_total", ecc_help, Value(g.ecc_corrected_volatile),
          with({{"error", "corrected"}}));
  counter("dlrig_gpu_ecc_errors_total", ecc_help, Value(g.ecc_uncorrected_volatile),
          with({{"error", "uncorrected"}}));
  counter("dlrig_gpu_ecc_lifetime_errors_total", ecc_life, Value(g.ecc_corrected_aggregate),
          with({{"error", "corrected"}}));
  counter("dlrig_gpu_ecc_lifetime_errors_total", ecc_life, Value(g.ecc_uncorrected_aggregate),
          with({{"error", "uncorrected"}}));
  const char* retired = "Memory pages retired (pre-Ampere page retirement).";
  counter("dlrig_gpu_retired_pages_total", retired, Value(g.retired_pages_sbe),
          with({{"cause", "multiple_single_bit_errors"}}));
  counter("dlrig_gpu_retired_pages_total", retired, Value(g.retired_pages_dbe),
          with({{"cause", "double_bit_error"}}));
  gauge("dlrig_gpu_retired_pages_pending", "1 when a page retirement waits for a reboot.",
        Value(g.retired_pages_pending));
  const char* remapped = "Memory rows remapped (Ampere and later).";
  counter("dlrig_gpu_remapped_rows_total", remapped, Value(g.remapped_rows_correctable),
          with({{"error", "correctable"}}));
  counter("dlrig_gpu_remapped_rows_total", remapped, Value(g.remapped_rows_uncorrectable),
          with({{"error", "uncorrectable"}}));
  gauge("dlrig_gpu_row_remap_pending", "1 when a row remap waits for a GPU reset.",
        Value(g.remap_pending));
  gauge("dlrig_gpu_row_remap_failed", "1 when a row remap has failed (RMA).",
        Value(g.remap_failed));
  gauge("dlrig_gpu_persistence_mode", "1 when persistence mode is on.", Value(g.persistence_mode));
  gauge("dlrig_gpu_mig_enabled", "1 when MIG mode is on.", Value(g.mig_enabled));
  gauge("dlrig_gpu_mig_devices", "MIG devices that exist.", Value(g.mig_devices));
  if (g.clock_event_reasons) {
    long long mask = *g.clock_event_reasons;
    x.Add("dlrig_gpu_clock_throttled", "gauge",
          "1 when power, heat or a hardware slowdown holds the clocks back.", id,
          ClockEventIsThrottle(mask) ? "1" : "0");
    for (const auto& [bit, name] : KnownClockEvents())
      x.Add("dlrig_gpu_clock_event_active", "gauge",
            "1 while this reason keeps the clocks below their maximum.", with({{"reason", name}}),
            (mask & bit) ? "1" : "0");
  }
  if (g.nvlinks)
    for (const NvLink& link : *g.nvlinks)
      x.Add("dlrig_gpu_nvlink_up", "gauge", "1 when the NVLink link is active.",
            with({{"link", std::to_string(link.link)}}), link.active ? "1" : "0");
  if (g.processes) {
    x.Add("dlrig_gpu_processes", "gauge", "Processes with memory on the GPU.", id,
          Integer(static_cast<long long>(g.processes->size())));
    for (const GpuProcess& p : *g.processes)
      if (p.used_memory_bytes)
        x.Add("dlrig_gpu_process_used_memory_bytes", "gauge",
              "GPU memory a process holds (command: the program's name only).",
              with({{"pid", std::to_string(p.pid)},
                    {"user", p.user},
                    // The program's name only, even under --show-commands: a label is stored.
                    {"command", ProgramName(p.command)}}),
              Integer(*p.used_memory_bytes));
  }
  std::map<int, long long> per_code;
  for (const XidEvent* e : xids) ++per_code[e->xid];
  for (const auto& [code, n] : per_code)
    x.Add("dlrig_gpu_xid_events_total", "counter",
          "Xid events the NVIDIA driver logged for the GPU (kernel log, this boot).",
          with({{"pci_bus_id", Or(g.pci_bus_id)}, {"xid", std::to_string(code)}}), Integer(n));
}

void Native(Exposition& x, const MonitorSnapshot& s) {
  const LibraryAnswers& nvml = s.nvml;
  if (nvml.device_count)
    x.Add("dlrig_gpus", "gauge", "GPUs NVML reports.", {}, Integer(*nvml.device_count));
  Labels driver;
  if (nvml.driver_version) driver.emplace_back("driver_version", *nvml.driver_version);
  if (nvml.nvml_version) driver.emplace_back("nvml_version", *nvml.nvml_version);
  if (nvml.cuda_driver_version)
    driver.emplace_back("cuda_driver_version", CudaVersionFromInt(*nvml.cuda_driver_version));
  if (!driver.empty())
    x.Add("dlrig_driver_info", "gauge", "The NVIDIA driver NVML belongs to; always 1.", driver,
          "1");
  auto xids = XidsByGpu(s);
  for (const GpuFacts& g : nvml.devices) NativeGpu(x, g, nvml, xids[g.index]);
  // Xids of a PCI address NVML no longer lists (a GPU that fell off the bus) stay visible.
  std::map<std::pair<std::string, int>, long long> orphans;
  for (const XidEvent* e : xids[-1]) ++orphans[{e->pci_address, e->xid}];
  for (const auto& [key, n] : orphans)
    x.Add(
        "dlrig_gpu_xid_events_total", "counter",
        "Xid events the NVIDIA driver logged for the GPU (kernel log, this boot).",
        {{"gpu", ""}, {"uuid", ""}, {"pci_bus_id", key.first}, {"xid", std::to_string(key.second)}},
        Integer(n));
}

// dcgm-exporter's names, types, units and help texts: etc/default-counters.csv, and its label
// set: internal/pkg/rendermetrics/render_metrics.go (gpu, UUID, pci_bus_id, device "nvidiaN",
// modelName, hostname, then the CSV's label fields such as DCGM_FI_DRIVER_VERSION) and
// internal/pkg/collector/gpu_collector.go (XID_ERRORS' err_code/err_msg; "%f" for doubles),
// github.com/NVIDIA/dcgm-exporter at d5e5f510 (2026-05-12); research/health-monitoring.md §2.6.
void Dcgm(Exposition& x, const MonitorSnapshot& s, const ExpositionOptions& options) {
  auto xids = XidsByGpu(s);
  for (const GpuFacts& g : s.nvml.devices) {
    Labels labels = {{"gpu", std::to_string(g.index)},
                     {"UUID", Or(g.uuid)},
                     {"pci_bus_id", Or(g.pci_bus_id)},
                     {"device", fmt::format("nvidia{}", g.index)},
                     {"modelName", Or(g.name)}};
    if (!options.hostname.empty()) labels.emplace_back("hostname", options.hostname);
    if (s.nvml.driver_version)
      labels.emplace_back("DCGM_FI_DRIVER_VERSION", *s.nvml.driver_version);
    auto add = [&](const char* name, const char* type, const char* help, std::optional<long long> v,
                   long long divisor = 1) {
      if (v) x.Add(name, type, help, labels, Integer(*v / divisor));
    };
    add("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", Value(g.clock_sm_mhz));
    add("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).",
        Value(g.clock_memory_mhz));
    add("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C).",
        Value(g.memory_temperature_c));
    add("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", Value(g.temperature_c));
    if (g.power_mw)
      x.Add("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", labels,
            fmt::format("{:.6f}", static_cast<double>(*g.power_mw) / 1000.0));
    add("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter",
        "Total energy consumption since boot (in mJ).", Value(g.energy_mj));
    add("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries.",
        Value(g.pcie_replay_count));
    add("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).",
        Value(g.utilization_gpu_percent));
    add("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).",
        Value(g.utilization_memory_percent));
    if (const auto& mine = xids[g.index]; !mine.empty()) {
      int code = mine.back()->xid;
      const auto& table = XidTable::BuiltIn();
      const XidInfo* info = table ? table->Find(code) : nullptr;
      Labels l = labels;
      l.emplace_back("err_code", std::to_string(code));
      l.emplace_back("err_msg", info ? info->meaning : "Unknown Error");
      x.Add("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered.", l,
            std::to_string(code));
    }
    constexpr long long kMiB = 1024 * 1024;
    add("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).",
        Value(g.memory_free_bytes), kMiB);
    add("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).",
        Value(g.memory_used_bytes), kMiB);
    add("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter",
        "Total number of single-bit volatile ECC errors.", Value(g.ecc_corrected_volatile));
    add("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter",
        "Total number of double-bit volatile ECC errors.", Value(g.ecc_uncorrected_volatile));
    add("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "counter",
        "Total number of single-bit persistent ECC errors.", Value(g.ecc_corrected_aggregate));
    add("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "counter",
        "Total number of double-bit persistent ECC errors.", Value(g.ecc_uncorrected_aggregate));
    add("DCGM_FI_DEV_RETIRED_SBE", "counter",
        "Total number of retired pages due to single-bit errors.", Value(g.retired_pages_sbe));
    add("DCGM_FI_DEV_RETIRED_DBE", "counter",
        "Total number of retired pages due to double-bit errors.", Value(g.retired_pages_dbe));
    add("DCGM_FI_DEV_RETIRED_PENDING", "counter", "Total number of pages pending retirement.",
        Value(g.retired_pages_pending));
    add("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter",
        "Number of remapped rows for uncorrectable errors", Value(g.remapped_rows_uncorrectable));
    add("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter",
        "Number of remapped rows for correctable errors", Value(g.remapped_rows_correctable));
    add("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed",
        Value(g.remap_failed));
  }
}

// The exporter's own health, in both namings.
void Self(Exposition& x, const MonitorSnapshot* s) {
  std::string reason = UnavailableReason(s);
  if (!reason.empty())
    x.Add("dlrig_sampler_unavailable", "gauge",
          "1 while no GPU can be described; the reason names the missing layer.",
          {{"reason", reason}}, "1");
  if (s == nullptr) return;
  x.Add("dlrig_sampler_sample_duration_seconds", "gauge",
        "How long the driver took to answer the last sample.", {},
        Real(static_cast<double>(s->took.count()) / 1000.0));
  double taken_s = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           s->taken.time_since_epoch())
                                           .count()) /
                   1000.0;
  x.Add("dlrig_sampler_last_sample_timestamp_seconds", "gauge",
        "When the last sample was taken (Unix time).", {}, fmt::format("{:.3f}", taken_s));
  x.Add("dlrig_sampler_samples_total", "counter", "Samples taken since the exporter started.", {},
        Integer(static_cast<long long>(s->sequence)));
  x.Add("dlrig_sampler_restarts_total", "counter",
        "Times the NVML child was started again after a hang or a crash.", {},
        Integer(s->restarts));
}

}  // namespace

std::optional<MetricNaming> ParseMetricNaming(std::string_view text) {
  if (text == "native") return MetricNaming::kNative;
  if (text == "dcgm") return MetricNaming::kDcgm;
  return std::nullopt;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string UnavailableReason(const MonitorSnapshot* s) {
  if (s == nullptr) return "no sample taken yet";
  if (s->unavailable.empty()) return "";
  const LibraryAnswers& nvml = s->nvml;
  if (!nvml.loaded_path && nvml.loaded_path.error().message != "not asked")
    return "user-space driver layer: cannot load " + nvml.requested + ": " +
           nvml.loaded_path.error().message;
  for (const DriverCall& c : nvml.calls) {
    if (!c.function.starts_with("nvmlInit") || !c.code || *c.code == 0) continue;
    // nvml.h: 9 NVML_ERROR_DRIVER_NOT_LOADED, 18 NVML_ERROR_LIB_RM_VERSION_MISMATCH.
    std::string call = fmt::format("{} returned {} ({})", c.function, *c.code, c.message);
    if (*c.code == 9) return "kernel driver layer: the NVIDIA kernel module is not loaded; " + call;
    if (*c.code == 18)
      return "user-space driver layer: libnvidia-ml and the kernel module are different "
             "versions; " +
             call;
    return "user-space driver layer: " + call;
  }
  return "driver: " + s->unavailable;
}

std::string RenderMetrics(const MonitorSnapshot* snapshot, const ExpositionOptions& options) {
  Exposition x;
  if (snapshot != nullptr) {
    if (options.naming == MetricNaming::kNative) {
      Native(x, *snapshot);
    } else {
      Dcgm(x, *snapshot, options);
      for (const GpuFacts& g : snapshot->nvml.devices)
        x.Add("dlrig_gpu_up", "gauge", "1 when NVML answered for this GPU, 0 when it did not.",
              {{"gpu", std::to_string(g.index)}, {"uuid", Or(g.uuid)}}, g.handle_code ? "0" : "1");
    }
  }
  Self(x, snapshot);
  return x.Text();
}

}  // namespace dlrig
