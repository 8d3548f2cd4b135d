#include "report/gpu_report.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "probe/pci.h"

namespace dlrig {
namespace {

// A value for the text report, or why it is missing ("unsupported", "no_permission").
template <class T, class F>
std::string Val(const Result<T>& r, F format) {
  return r ? format(*r) : std::string("n/a (") + ErrorKindName(r.error().kind) + ")";
}
std::string Num(const Result<long long>& r) {
  return Val(r, [](long long v) { return std::to_string(v); });
}
std::string YesNo(const Result<bool>& r, const char* yes = "yes", const char* no = "no") {
  return Val(r, [&](bool v) { return std::string(v ? yes : no); });
}

// NVML_GPU_FABRIC_STATE_*.
std::string FabricStateText(long long state) {
  switch (state) {
    case 0: return "not supported (no NVSwitch fabric)";
    case 1: return "not started";
    case 2: return "in progress";
    case 3: return "completed";
  }
  return std::to_string(state);
}

}  // namespace

std::string TopologyCell(const std::vector<GpuFacts>& gpus, size_t i, size_t j) {
  if (i == j) return "X";
  const GpuFacts& a = gpus[i];
  const GpuFacts& b = gpus[j];
  if (a.nvlinks && b.pci_bus_id) {
    auto peer = NormalizePciAddress(*b.pci_bus_id);
    int links = 0;
    for (const NvLink& l : *a.nvlinks)
      if (l.active && l.remote_bus_id && peer && NormalizePciAddress(*l.remote_bus_id) == peer) ++links;
    if (links > 0) return "NV" + std::to_string(links);
    // Through NVSwitches every active link reaches every peer, as topo -m counts them.
    auto p2p = a.nvlink_p2p.find(static_cast<int>(j));
    int active = 0;
    for (const NvLink& l : *a.nvlinks) active += l.active;
    if (p2p != a.nvlink_p2p.end() && p2p->second && *p2p->second && active > 0)
      return "NV" + std::to_string(active);
  }
  auto it = a.topology.find(static_cast<int>(j));
  if (it == a.topology.end() || !it->second) return "?";
  return TopologyName(*it->second);
}

void RenderTopology(TextWriter& out, const std::vector<GpuFacts>& gpus) {
  if (gpus.size() < 2) return;
  std::string header = "      ";
  for (size_t j = 0; j < gpus.size(); ++j) header += fmt::format("{:>6}", "GPU" + std::to_string(j));
  out.Item("topology", "how each pair of GPUs is joined (as nvidia-smi topo -m)");
  out.Detail(header);
  for (size_t i = 0; i < gpus.size(); ++i) {
    std::string row = fmt::format("{:<6}", "GPU" + std::to_string(i));
    for (size_t j = 0; j < gpus.size(); ++j) row += fmt::format("{:>6}", TopologyCell(gpus, i, j));
    out.Detail(row);
  }
}

void RenderGpu(TextWriter& out, const GpuFacts& g) {
  std::string key = "gpu " + std::to_string(g.index);
  if (!g.name && !g.pci_bus_id) return out.Unknown(key, g.name.error());
  out.Item(key, fmt::format("{}  {}  {}  compute capability {}",
                            Val(g.name, [](auto& v) { return v; }),
                            Val(g.pci_bus_id, [](auto& v) { return v; }),
                            Val(g.uuid, [](auto& v) { return v; }),
                            Val(g.compute_capability, [](auto& v) { return v; })));
  auto bytes = [](long long v) { return HumanBytes(static_cast<unsigned long long>(v)); };
  auto watts = [](long long mw) { return fmt::format("{:.0f} W", mw / 1000.0); };
  out.Detail(fmt::format("memory {} used of {}; {} C; power {} of {}; PCIe gen {} x{} (max gen {} x{})",
                         Val(g.memory_used_bytes, bytes), Val(g.memory_total_bytes, bytes),
                         Num(g.temperature_c), Val(g.power_mw, watts), Val(g.power_limit_mw, watts),
                         Num(g.pcie_gen_now), Num(g.pcie_width_now), Num(g.pcie_gen_max),
                         Num(g.pcie_width_max)));
  out.Detail(fmt::format("ECC {} (after reboot {}); uncorrected errors {} since load, {} lifetime",
                         YesNo(g.ecc_enabled, "on", "off"), YesNo(g.ecc_pending_enabled, "on", "off"),
                         Num(g.ecc_uncorrected_volatile), Num(g.ecc_uncorrected_aggregate)));
  // One reason for a whole call that failed, not one per value.
  std::string remap = g.remap_pending
                          ? fmt::format("{} correctable, {} uncorrectable, pending {}, failed {}",
                                        Num(g.remapped_rows_correctable),
                                        Num(g.remapped_rows_uncorrectable), YesNo(g.remap_pending),
                                        YesNo(g.remap_failed))
                          : YesNo(g.remap_pending);
  std::string retired = g.retired_pages_pending || g.retired_pages_dbe
                            ? fmt::format("{} single-bit, {} double-bit, pending {}",
                                          Num(g.retired_pages_sbe), Num(g.retired_pages_dbe),
                                          YesNo(g.retired_pages_pending))
                            : Num(g.retired_pages_dbe);
  out.Detail(fmt::format("remapped rows {}; retired pages {}", remap, retired));
  out.Detail(fmt::format("compute mode {}; persistence {}; MIG {} (pending {}), {} MIG devices; "
                         "fabric state {}",
                         Val(g.compute_mode, [](ComputeMode m) { return std::string(ComputeModeName(m)); }),
                         YesNo(g.persistence_mode, "on", "off"), YesNo(g.mig_enabled, "on", "off"),
                         YesNo(g.mig_pending_enabled, "on", "off"), Num(g.mig_devices),
                         Val(g.fabric_state, FabricStateText)));
  auto mhz = [](long long v) { return fmt::format("{} MHz", v); };
  auto pct = [](long long v) { return fmt::format("{}%", v); };
  out.Detail(fmt::format("utilisation {} (memory {}); clocks SM {} of {}, memory {} of {}; P{}; fan {}",
                         Val(g.utilization_gpu_percent, pct), Val(g.utilization_memory_percent, pct),
                         Val(g.clock_sm_mhz, mhz), Val(g.clock_sm_max_mhz, mhz),
                         Val(g.clock_memory_mhz, mhz), Val(g.clock_memory_max_mhz, mhz),
                         Num(g.performance_state), Val(g.fan_percent, pct)));
  auto celsius = [](long long v) { return fmt::format("{} C", v); };
  out.Detail(fmt::format("memory {} C; slowdown at {}, shutdown at {}; default power limit {}; "
                         "PCIe replays {}",
                         Num(g.memory_temperature_c), Val(g.temperature_slowdown_c, celsius),
                         Val(g.temperature_shutdown_c, celsius), Val(g.power_default_limit_mw, watts),
                         Num(g.pcie_replay_count)));
  if (g.clock_event_reasons && *g.clock_event_reasons != 0)
    out.Detail(fmt::format("clocks held back by: {}", fmt::join(ClockEventNames(*g.clock_event_reasons), ", ")));
  if (g.nvlinks && !g.nvlinks->empty()) {
    int active = 0;
    for (const NvLink& l : *g.nvlinks) active += l.active;
    out.Detail(fmt::format("NVLink: {} of {} links active", active, g.nvlinks->size()));
  }
  if (g.processes)
    for (const GpuProcess& p : *g.processes)
      out.Detail(fmt::format("process {} {} {} {}{}", p.pid, p.user.empty() ? "?" : p.user,
                             Val(p.used_memory_bytes, bytes), p.command.empty() ? "?" : p.command,
                             p.container.empty() ? "" : " (container " + p.container + ")"));
}

json GpuJson(const GpuFacts& g) {
  json j = {{"index", g.index},
            {"handle_code", g.handle_code ? json(*g.handle_code) : json(nullptr)},
            {"name", FactJson(g.name)},
            {"uuid", FactJson(g.uuid)},
            {"pci_bus_id", FactJson(g.pci_bus_id)},
            {"compute_capability", FactJson(g.compute_capability)},
            {"memory_total_bytes", FactJson(g.memory_total_bytes)},
            {"memory_used_bytes", FactJson(g.memory_used_bytes)},
            {"ecc_enabled", FactJson(g.ecc_enabled)},
            {"ecc_pending_enabled", FactJson(g.ecc_pending_enabled)},
            {"ecc_uncorrected_volatile", FactJson(g.ecc_uncorrected_volatile)},
            {"ecc_uncorrected_aggregate", FactJson(g.ecc_uncorrected_aggregate)},
            {"retired_pages_sbe", FactJson(g.retired_pages_sbe)},
            {"retired_pages_dbe", FactJson(g.retired_pages_dbe)},
            {"retired_pages_pending", FactJson(g.retired_pages_pending)},
            {"remapped_rows_correctable", FactJson(g.remapped_rows_correctable)},
            {"remapped_rows_uncorrectable", FactJson(g.remapped_rows_uncorrectable)},
            {"remap_pending", FactJson(g.remap_pending)},
            {"remap_failed", FactJson(g.remap_failed)},
            {"mig_enabled", FactJson(g.mig_enabled)},
            {"mig_pending_enabled", FactJson(g.mig_pending_enabled)},
            {"mig_devices", FactJson(g.mig_devices)}};
  j["compute_mode"] = g.compute_mode ? json(ComputeModeName(*g.compute_mode))
                                     : UnavailableJson(g.compute_mode.error());
  j["persistence_mode"] = FactJson(g.persistence_mode);
  for (auto [key, value] : {std::pair{"pcie_gen_now", &g.pcie_gen_now},
                            {"pcie_gen_max", &g.pcie_gen_max},
                            {"pcie_width_now", &g.pcie_width_now},
                            {"pcie_width_max", &g.pcie_width_max},
                            {"temperature_c", &g.temperature_c},
                            {"power_mw", &g.power_mw},
                            {"power_limit_mw", &g.power_limit_mw},
                            {"fabric_state", &g.fabric_state},
                            {"fabric_status", &g.fabric_status},
                            {"pci_device_id", &g.pci_device_id},
                            {"memory_free_bytes", &g.memory_free_bytes},
                            {"memory_bus_width_bits", &g.memory_bus_width_bits},
                            {"power_default_limit_mw", &g.power_default_limit_mw},
                            {"temperature_slowdown_c", &g.temperature_slowdown_c},
                            {"temperature_shutdown_c", &g.temperature_shutdown_c},
                            {"temperature_gpu_max_c", &g.temperature_gpu_max_c},
                            {"temperature_memory_max_c", &g.temperature_memory_max_c},
                            {"clock_sm_max_mhz", &g.clock_sm_max_mhz},
                            {"clock_memory_max_mhz", &g.clock_memory_max_mhz},
                            {"clock_sm_mhz", &g.clock_sm_mhz},
                            {"clock_memory_mhz", &g.clock_memory_mhz},
                            {"clock_graphics_mhz", &g.clock_graphics_mhz},
                            {"utilization_gpu_percent", &g.utilization_gpu_percent},
                            {"utilization_memory_percent", &g.utilization_memory_percent},
                            {"memory_temperature_c", &g.memory_temperature_c},
                            {"fan_percent", &g.fan_percent},
                            {"performance_state", &g.performance_state},
                            {"energy_mj", &g.energy_mj},
                            {"pcie_tx_kbps", &g.pcie_tx_kbps},
                            {"pcie_rx_kbps", &g.pcie_rx_kbps},
                            {"pcie_replay_count", &g.pcie_replay_count},
                            {"ecc_corrected_volatile", &g.ecc_corrected_volatile},
                            {"ecc_corrected_aggregate", &g.ecc_corrected_aggregate}})
    j[key] = FactJson(*value);
  j["serial"] = FactJson(g.serial);
  if (g.clock_event_reasons) {
    j["clock_event_reasons"] = {{"mask", *g.clock_event_reasons},
                                {"names", ClockEventNames(*g.clock_event_reasons)},
                                {"throttled", ClockEventIsThrottle(*g.clock_event_reasons)}};
  } else {
    j["clock_event_reasons"] = UnavailableJson(g.clock_event_reasons.error());
  }
  if (g.nvlinks) {
    json links = json::array();
    for (const NvLink& l : *g.nvlinks)
      links.push_back({{"link", l.link}, {"active", l.active}, {"version", FactJson(l.version)},
                       {"remote_pci_bus_id", FactJson(l.remote_bus_id)}});
    j["nvlinks"] = links;
  } else {
    j["nvlinks"] = UnavailableJson(g.nvlinks.error());
  }
  if (g.processes) {
    json procs = json::array();
    for (const GpuProcess& p : *g.processes)
      procs.push_back({{"pid", p.pid}, {"type", p.graphics ? "graphics" : "compute"},
                       {"used_memory_bytes", FactJson(p.used_memory_bytes)},
                       {"user", p.user}, {"command", p.command}, {"container", p.container}});
    j["processes"] = procs;
  } else {
    j["processes"] = UnavailableJson(g.processes.error());
  }
  json topo = json::object();
  for (const auto& [other, level] : g.topology)
    topo[std::to_string(other)] = level ? json(TopologyName(*level)) : UnavailableJson(level.error());
  j["topology"] = topo;
  json p2p = json::object();
  for (const auto& [other, ok] : g.nvlink_p2p) p2p[std::to_string(other)] = FactJson(ok);
  j["nvlink_p2p"] = p2p;
  return j;
}

}  // namespace dlrig
