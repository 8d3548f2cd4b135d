// The per-GPU NVML asks of the driver query child: identity and fixed facts once, the live
// values on every pass. Runs only in the forked child.
#include <cstring>
#include <utility>

#include "probe/driver_query_asks.h"

namespace dlrig::child {
namespace {

using nvml::Device;
using nvml::Return;

std::string Text(const char* buf, size_t size) { return std::string(buf, strnlen(buf, size)); }
const char* Flag(bool v) { return v ? "1" : "0"; }

// An unsigned getter: fn(device, &value).
void AskUnsigned(DeviceAsker& ask, const Symbol& sym, const char* field, Device dev) {
  unsigned v = 0;
  using Fn = Return (*)(Device, unsigned*);
  if (ask.Ask(sym, {field}, [&] { return As<Fn>(sym)(dev, &v); })) ask.Value(field, v);
}
// A getter with one int selector: fn(device, which, &value).
void AskSelected(DeviceAsker& ask, const Symbol& sym, const char* field, Device dev, int which) {
  unsigned v = 0;
  using Fn = Return (*)(Device, int, unsigned*);
  if (ask.Ask(sym, {field}, [&] { return As<Fn>(sym)(dev, which, &v); })) ask.Value(field, v);
}

// The v2 struct first (nvidia-smi's "used"); drivers without it answer through v1.
void AskMemory(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  nvml::MemoryV2 v2{};
  v2.version = nvml::kMemoryV2Version;
  using MemV2Fn = Return (*)(Device, nvml::MemoryV2*);
  if (s.memory_v2.ptr &&
      ask.Ask(s.memory_v2, {}, [&] { return As<MemV2Fn>(s.memory_v2)(dev, &v2); })) {
    ask.Value("memory_total_bytes", v2.total);
    ask.Value("memory_used_bytes", v2.used);
    ask.Value("memory_free_bytes", v2.free);
    return;
  }
  nvml::Memory mem{};
  using MemFn = Return (*)(Device, nvml::Memory*);
  if (ask.Ask(s.memory, {"memory_total_bytes", "memory_used_bytes", "memory_free_bytes"},
              [&] { return As<MemFn>(s.memory)(dev, &mem); })) {
    ask.Value("memory_total_bytes", mem.total);
    ask.Value("memory_used_bytes", mem.used);
    ask.Value("memory_free_bytes", mem.free);
  }
}

void AskIdentity(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  using StringFn = Return (*)(Device, char*, unsigned);
  char name[nvml::kNameBytes] = {}, uuid[nvml::kUuidBytes] = {}, serial[nvml::kSerialBytes] = {};
  if (ask.Ask(s.name, {"name"}, [&] { return As<StringFn>(s.name)(dev, name, sizeof name); }))
    ask.Value("name", Text(name, sizeof name));
  if (ask.Ask(s.uuid, {"uuid"}, [&] { return As<StringFn>(s.uuid)(dev, uuid, sizeof uuid); }))
    ask.Value("uuid", Text(uuid, sizeof uuid));
  if (ask.Ask(s.serial, {"serial"},
              [&] { return As<StringFn>(s.serial)(dev, serial, sizeof serial); }))
    ask.Value("serial", Text(serial, sizeof serial));
  nvml::PciInfo pci{};
  using PciFn = Return (*)(Device, nvml::PciInfo*);
  if (ask.Ask(s.pci, {"pci_bus_id", "pci_device_id"},
              [&] { return As<PciFn>(s.pci)(dev, &pci); })) {
    std::string id = Text(pci.bus_id, sizeof pci.bus_id);
    if (id.empty()) id = Text(pci.bus_id_legacy, sizeof pci.bus_id_legacy);
    ask.Value("pci_bus_id", id);
    ask.Value("pci_device_id", pci.pci_device_id);
  }
  int major = 0, minor = 0;
  using CcFn = Return (*)(Device, int*, int*);
  if (ask.Ask(s.cc, {"compute_capability"}, [&] { return As<CcFn>(s.cc)(dev, &major, &minor); }))
    ask.Value("compute_capability", std::to_string(major) + "." + std::to_string(minor));
}

// What does not change while the driver is loaded.
void AskFixed(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  AskUnsigned(ask, s.bus_width, "memory_bus_width_bits", dev);
  AskUnsigned(ask, s.power_default, "power_default_limit_mw", dev);
  for (auto [field, which] : {std::pair{"temperature_shutdown_c", nvml::kThresholdShutdown},
                              {"temperature_slowdown_c", nvml::kThresholdSlowdown},
                              {"temperature_memory_max_c", nvml::kThresholdMemMax},
                              {"temperature_gpu_max_c", nvml::kThresholdGpuMax}})
    AskSelected(ask, s.threshold, field, dev, which);
  AskSelected(ask, s.max_clock, "clock_sm_max_mhz", dev, nvml::kClockSm);
  AskSelected(ask, s.max_clock, "clock_memory_max_mhz", dev, nvml::kClockMem);
}

void AskMemoryHealth(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  int current = 0, pending = 0;  // nvmlEnableState_t
  using ModeFn = Return (*)(Device, int*, int*);
  if (ask.Ask(s.ecc_mode, {"ecc_enabled", "ecc_pending_enabled"},
              [&] { return As<ModeFn>(s.ecc_mode)(dev, &current, &pending); })) {
    ask.Value("ecc_enabled", Flag(current != 0));
    ask.Value("ecc_pending_enabled", Flag(pending != 0));
  }
  using EccFn = Return (*)(Device, int, int, unsigned long long*);
  struct Counter {
    const char* field;
    int type, counter;
  };
  for (auto c : {Counter{"ecc_uncorrected_volatile", nvml::kUncorrected, nvml::kVolatileEcc},
                 Counter{"ecc_uncorrected_aggregate", nvml::kUncorrected, nvml::kAggregateEcc},
                 Counter{"ecc_corrected_volatile", nvml::kCorrected, nvml::kVolatileEcc},
                 Counter{"ecc_corrected_aggregate", nvml::kCorrected, nvml::kAggregateEcc}}) {
    unsigned long long n = 0;
    if (ask.Ask(s.ecc_total, {c.field},
                [&] { return As<EccFn>(s.ecc_total)(dev, c.type, c.counter, &n); }))
      ask.Value(c.field, n);
  }
  using RetiredFn = Return (*)(Device, int, unsigned*, unsigned long long*);
  for (auto [field, cause] : {std::pair{"retired_pages_sbe", nvml::kRetiredSbe},
                              std::pair{"retired_pages_dbe", nvml::kRetiredDbe}}) {
    unsigned long long pages[nvml::kRetiredPagesBuffer];
    unsigned count = nvml::kRetiredPagesBuffer;
    // A structured binding is captured by name only from C++20 (clang 14 refuses it).
    auto call = [&, cause = cause] {  // a full buffer still sets the count
      Return r = As<RetiredFn>(s.retired)(dev, cause, &count, pages);
      return r == nvml::kInsufficientSize ? nvml::kSuccess : r;
    };
    if (ask.Ask(s.retired, {field}, call)) ask.Value(field, count);
  }
  int retired_pending = 0;
  using PendingFn = Return (*)(Device, int*);
  if (ask.Ask(s.retired_pending, {"retired_pages_pending"},
              [&] { return As<PendingFn>(s.retired_pending)(dev, &retired_pending); }))
    ask.Value("retired_pages_pending", Flag(retired_pending != 0));
  unsigned corr = 0, unc = 0, is_pending = 0, failed = 0;
  using RowsFn = Return (*)(Device, unsigned*, unsigned*, unsigned*, unsigned*);
  if (ask.Ask(s.remapped,
              {"remapped_rows_correctable", "remapped_rows_uncorrectable", "remap_pending",
               "remap_failed"},
              [&] { return As<RowsFn>(s.remapped)(dev, &corr, &unc, &is_pending, &failed); })) {
    ask.Value("remapped_rows_correctable", corr);
    ask.Value("remapped_rows_uncorrectable", unc);
    ask.Value("remap_pending", Flag(is_pending != 0));
    ask.Value("remap_failed", Flag(failed != 0));
  }
}

// MIG devices are counted only when MIG is on: otherwise there are none to find.
void AskMig(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  unsigned current = 0, pending = 0;
  using ModeFn = Return (*)(Device, unsigned*, unsigned*);
  if (!ask.Ask(s.mig_mode, {"mig_enabled", "mig_pending_enabled"},
               [&] { return As<ModeFn>(s.mig_mode)(dev, &current, &pending); }))
    return;
  ask.Value("mig_enabled", Flag(current == nvml::kMigEnable));
  ask.Value("mig_pending_enabled", Flag(pending == nvml::kMigEnable));
  if (current != nvml::kMigEnable) return;
  unsigned max = 0;
  using MaxFn = Return (*)(Device, unsigned*);
  if (!ask.Ask(s.mig_max, {"mig_devices"}, [&] { return As<MaxFn>(s.mig_max)(dev, &max); }))
    return;
  unsigned found = 0;
  using HandleFn = Return (*)(Device, unsigned, Device*);
  for (unsigned i = 0; i < max && i < nvml::kMaxMigDevices; ++i) {
    Device mig = nullptr;
    bool ok = ask.Ask(s.mig_handle, {"mig_devices"}, [&] {
      Return r = As<HandleFn>(s.mig_handle)(dev, i, &mig);
      if (r == nvml::kSuccess) ++found;
      return r == nvml::kNotFound ? nvml::kSuccess : r;  // an empty slot
    });
    if (!ok) return;
  }
  ask.Value("mig_devices", found);
}

void AskState(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  int mode = 0;  // nvmlComputeMode_t, nvmlEnableState_t
  using IntFn = Return (*)(Device, int*);
  if (ask.Ask(s.compute_mode, {"compute_mode"},
              [&] { return As<IntFn>(s.compute_mode)(dev, &mode); }))
    ask.Value("compute_mode", std::to_string(mode));
  if (ask.Ask(s.persistence, {"persistence_mode"},
              [&] { return As<IntFn>(s.persistence)(dev, &mode); }))
    ask.Value("persistence_mode", Flag(mode != 0));
  AskUnsigned(ask, s.gen_now, "pcie_gen_now", dev);
  AskUnsigned(ask, s.gen_max, "pcie_gen_max", dev);
  AskUnsigned(ask, s.width_now, "pcie_width_now", dev);
  AskUnsigned(ask, s.width_max, "pcie_width_max", dev);
  AskSelected(ask, s.temperature, "temperature_c", dev, nvml::kTemperatureGpu);
  AskUnsigned(ask, s.power, "power_mw", dev);
  AskUnsigned(ask, s.power_limit, "power_limit_mw", dev);
  nvml::GpuFabricInfo fabric{};
  using FabricFn = Return (*)(Device, nvml::GpuFabricInfo*);
  if (ask.Ask(s.fabric, {"fabric_state", "fabric_status"},
              [&] { return As<FabricFn>(s.fabric)(dev, &fabric); })) {
    ask.Value("fabric_state", std::to_string(fabric.state));
    ask.Value("fabric_status", std::to_string(fabric.status));
  }
}

// Clocks, utilisation, temperatures, fan, energy, PCIe counters, throttle reasons.
void AskLive(DeviceAsker& ask, const DeviceSymbols& s, Device dev, const DriverQueryOptions& o) {
  AskSelected(ask, s.clock, "clock_sm_mhz", dev, nvml::kClockSm);
  AskSelected(ask, s.clock, "clock_memory_mhz", dev, nvml::kClockMem);
  AskSelected(ask, s.clock, "clock_graphics_mhz", dev, nvml::kClockGraphics);
  nvml::Utilization util{};
  using UtilFn = Return (*)(Device, nvml::Utilization*);
  if (ask.Ask(s.utilization, {"utilization_gpu_percent", "utilization_memory_percent"},
              [&] { return As<UtilFn>(s.utilization)(dev, &util); })) {
    ask.Value("utilization_gpu_percent", util.gpu);
    ask.Value("utilization_memory_percent", util.memory);
  }
  nvml::FieldValue field{};
  field.field_id = nvml::kFieldMemoryTemp;
  using FieldsFn = Return (*)(Device, int, nvml::FieldValue*);
  auto ask_field = [&] {
    Return r = As<FieldsFn>(s.field_values)(dev, 1, &field);
    return r != nvml::kSuccess ? r : field.result;
  };
  if (ask.Ask(s.field_values, {"memory_temperature_c"}, ask_field)) {
    // Integer types only: the memory temperature is unsigned in every driver seen.
    unsigned long long v = field.value_type == 0 ? static_cast<unsigned long long>(field.value.d)
                           : field.value_type == 1 ? field.value.ui
                                                    : field.value.ull;
    ask.Value("memory_temperature_c", v);
  }
  AskUnsigned(ask, s.fan, "fan_percent", dev);
  int pstate = 0;
  using IntFn = Return (*)(Device, int*);
  if (ask.Ask(s.pstate, {"performance_state"}, [&] { return As<IntFn>(s.pstate)(dev, &pstate); }))
    ask.Value("performance_state", std::to_string(pstate));
  unsigned long long energy = 0, reasons = 0;
  using UllFn = Return (*)(Device, unsigned long long*);
  if (o.slow_counters &&
      ask.Ask(s.energy, {"energy_mj"}, [&] { return As<UllFn>(s.energy)(dev, &energy); }))
    ask.Value("energy_mj", energy);
  if (ask.Ask(s.clock_events, {"clock_event_reasons"},
              [&] { return As<UllFn>(s.clock_events)(dev, &reasons); }))
    ask.Value("clock_event_reasons", reasons);
  if (o.slow_counters) AskUnsigned(ask, s.replay, "pcie_replay_count", dev);
  if (o.pcie_throughput) {
    AskSelected(ask, s.pcie_throughput, "pcie_tx_kbps", dev, nvml::kPcieTxBytes);
    AskSelected(ask, s.pcie_throughput, "pcie_rx_kbps", dev, nvml::kPcieRxBytes);
  }
}

// "process.<n> = <pid> <c|g> <bytes or ->"; "processes = <count>" closes the list.
void AskProcesses(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  using ListFn = Return (*)(Device, unsigned*, nvml::ProcessInfo*);
  unsigned listed = 0;
  for (auto [sym, kind] : {std::pair{&s.compute_processes, "c"}, {&s.graphics_processes, "g"}}) {
    std::vector<nvml::ProcessInfo> infos(64);
    unsigned count = 0;
    auto call = [&, sym = sym] {  // init-capture: clang 14 captures no structured binding
      for (;;) {
        count = static_cast<unsigned>(infos.size());
        Return r = As<ListFn>(*sym)(dev, &count, infos.data());
        if (r != nvml::kInsufficientSize || infos.size() >= nvml::kMaxProcesses) return r;
        infos.resize(std::min<size_t>(nvml::kMaxProcesses, std::max<size_t>(count, infos.size()) * 2));
      }
    };
    if (!ask.Ask(*sym, {"processes"}, call)) return;
    for (unsigned i = 0; i < count && i < infos.size(); ++i) {
      const auto& p = infos[i];
      std::string bytes = p.used_gpu_memory == nvml::kValueNotAvailable
                              ? "-" : std::to_string(p.used_gpu_memory);
      ask.Value("process." + std::to_string(listed++),
                std::to_string(p.pid) + " " + kind + " " + bytes);
    }
  }
  ask.Value("processes", listed);
}

// "nvlink.<n> = <active> <version or -> <remote bus id or ->"; "nvlinks = <links>" closes.
// A GPU without NVLink answers NOT_SUPPORTED for link 0; links past its last answer
// INVALID_ARGUMENT.
void AskNvLinks(DeviceAsker& ask, const DeviceSymbols& s, Device dev) {
  using StateFn = Return (*)(Device, unsigned, int*);
  using VersionFn = Return (*)(Device, unsigned, unsigned*);
  using RemoteFn = Return (*)(Device, unsigned, nvml::PciInfo*);
  unsigned links = 0;
  for (unsigned link = 0; link < nvml::kNvLinkMaxLinks; ++link) {
    int active = 0;
    Return code = nvml::kSuccess;
    bool ok = ask.Ask(s.nvlink_state, link == 0 ? "nvlinks" : "nvlink." + std::to_string(link), [&] {
      code = As<StateFn>(s.nvlink_state)(dev, link, &active);
      return link > 0 && (code == nvml::kInvalidArgument || code == nvml::kNotSupported)
                 ? nvml::kSuccess : code;
    });
    if (!ok) return;  // link 0 failed: the whole list carries the error
    if (code != nvml::kSuccess) break;
    unsigned version = 0;
    std::string version_text = "-", remote_text = "-";
    if (s.nvlink_version.ptr && As<VersionFn>(s.nvlink_version)(dev, link, &version) == 0)
      version_text = std::to_string(version);
    nvml::PciInfo remote{};
    if (active && s.nvlink_remote.ptr && As<RemoteFn>(s.nvlink_remote)(dev, link, &remote) == 0)
      remote_text = Text(remote.bus_id, sizeof remote.bus_id);
    if (remote_text.empty()) remote_text = "-";
    ask.Value("nvlink." + std::to_string(link),
              std::string(Flag(active != 0)) + " " + version_text + " " + remote_text);
    ++links;
  }
  ask.Value("nvlinks", links);
}

// "topology.<j> = <nvmlGpuTopologyLevel_t>" for every other GPU j, and "nvlink_p2p.<j> =
// <nvmlGpuP2PStatus_t>": whether they reach each other over NVLink (directly or through
// NVSwitches, where the links' far end is a switch rather than the peer).
void AskTopology(Emitter& out, const DeviceSymbols& s, const Symbol& err,
                 const std::vector<Device>& handles) {
  using TopoFn = Return (*)(Device, Device, int*);
  for (unsigned i = 0; i < handles.size(); ++i) {
    if (!handles[i]) continue;
    DeviceAsker ask(out, err, i);
    for (unsigned j = 0; j < handles.size(); ++j) {
      if (j == i || !handles[j]) continue;
      int level = 0;
      std::string field = "topology." + std::to_string(j);
      if (ask.Ask(s.topology, field,
                  [&] { return As<TopoFn>(s.topology)(handles[i], handles[j], &level); }))
        ask.Value(field, std::to_string(level));
      int status = 0;
      using P2pFn = Return (*)(Device, Device, int, int*);
      field = "nvlink_p2p." + std::to_string(j);
      if (ask.Ask(s.p2p_status, field, [&] {
            return As<P2pFn>(s.p2p_status)(handles[i], handles[j], nvml::kP2pCapsNvlink, &status);
          }))
        ask.Value(field, std::to_string(status));
    }
  }
}

}  // namespace

DeviceSymbols FindDeviceSymbols(void* h) {
  DeviceSymbols s;
#define DLRIG_FIND(member, ...) s.member = Find(h, nvml::names::member, nullptr);
  DLRIG_NVML_DEVICE_SYMBOLS(DLRIG_FIND)
#undef DLRIG_FIND
  return s;
}

void AskDevices(Emitter& out, const DeviceSymbols& s, const Symbol& err,
                const std::vector<Device>& handles, Pass pass, const DriverQueryOptions& o) {
  for (unsigned i = 0; i < handles.size(); ++i) {
    Device dev = handles[i];
    if (!dev) continue;
    DeviceAsker ask(out, err, i);
    if (pass == Pass::kFull) {
      AskIdentity(ask, s, dev);
      AskFixed(ask, s, dev);
      AskMig(ask, s, dev);
    }
    AskMemory(ask, s, dev);
    if (o.slow_counters) AskMemoryHealth(ask, s, dev);
    AskState(ask, s, dev);
    AskLive(ask, s, dev, o);
    if (o.processes) AskProcesses(ask, s, dev);
    if (o.nvlinks && o.slow_counters) AskNvLinks(ask, s, dev);
  }
  if (pass == Pass::kFull && o.topology) AskTopology(out, s, err, handles);
}

}  // namespace dlrig::child
