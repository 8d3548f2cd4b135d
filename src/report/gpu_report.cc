#include "report/gpu_report.h"

#include <fmt/format.h>

#include "core/strings.h"

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
                            {"fabric_status", &g.fabric_status}})
    j[key] = FactJson(*value);
  return j;
}

}  // namespace dlrig
