// The child side of QueryDriver: our own minimal ABI of libnvidia-ml and libcuda (no NVIDIA
// headers), one symbol list, newest symbol version first. Runs only in the forked child.
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>
#include <string>

#include "probe/driver_query_child.h"

namespace dlrig {
namespace {

// The ABI: nvmlReturn_t and CUresult are C enums (int-sized); handles are not needed.
using NvmlReturn = int;
using CuResult = int;
static_assert(sizeof(NvmlReturn) == 4 && sizeof(CuResult) == 4, "enums are 32-bit");
constexpr unsigned kNvmlVersionBufferBytes = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

// Per-GPU calls. Signatures and enum values from nvml.h as aggregated in NVIDIA/DCGM
// sdk/nvidia/nvml/dcgm_nvml.h (NVML_API_VERSION 12, DCGM commit 72fa3fea, 2026-07-06).
using NvmlDevice = void*;  // nvmlDevice_t: an opaque pointer
constexpr unsigned kNvmlNameBytes = 96;   // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kNvmlUuidBytes = 96;   // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr int kNvmlUncorrected = 1;       // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int kNvmlVolatileEcc = 0;       // NVML_VOLATILE_ECC
constexpr int kNvmlAggregateEcc = 1;      // NVML_AGGREGATE_ECC
constexpr int kNvmlRetiredSbe = 0;        // NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS
constexpr int kNvmlRetiredDbe = 1;        // NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR
constexpr int kNvmlTemperatureGpu = 0;    // NVML_TEMPERATURE_GPU
constexpr unsigned kNvmlMigEnable = 1;    // NVML_DEVICE_MIG_ENABLE
constexpr NvmlReturn kNvmlNotFound = 6;   // NVML_ERROR_NOT_FOUND
constexpr NvmlReturn kNvmlInsufficientSize = 7;  // NVML_ERROR_INSUFFICIENT_SIZE
constexpr unsigned kRetiredPagesBuffer = 256;    // pages listed per cause; more only counted
constexpr unsigned kMaxMigDevices = 64;

struct NvmlPciInfo {  // nvmlPciInfo_t
  char bus_id_legacy[16];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE
  unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
  char bus_id[32];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE
};
static_assert(sizeof(NvmlPciInfo) == 68, "nvmlPciInfo_t");
struct NvmlMemory {  // nvmlMemory_t (nvmlDeviceGetMemoryInfo): used = reserved + allocated
  unsigned long long total, free, used;
};
static_assert(sizeof(NvmlMemory) == 24, "nvmlMemory_t");
struct NvmlMemoryV2 {  // nvmlMemory_v2_t: used = allocated only, as nvidia-smi shows it
  unsigned version;
  unsigned long long total, reserved, free, used;
};
static_assert(sizeof(NvmlMemoryV2) == 40, "nvmlMemory_v2_t");
constexpr unsigned kNvmlMemoryV2Version = sizeof(NvmlMemoryV2) | (2u << 24);  // nvmlMemory_v2
struct NvmlGpuFabricInfo {  // nvmlGpuFabricInfo_t (the unversioned struct)
  unsigned char cluster_uuid[16];  // NVML_GPU_FABRIC_UUID_LEN
  NvmlReturn status;
  unsigned clique_id;
  unsigned char state;  // nvmlGpuFabricState_t
};
static_assert(sizeof(NvmlGpuFabricInfo) == 28, "nvmlGpuFabricInfo_t");

using NvmlVoidFn = NvmlReturn (*)();
using NvmlStringFn = NvmlReturn (*)(char*, unsigned);
using NvmlIntFn = NvmlReturn (*)(int*);
using NvmlUintFn = NvmlReturn (*)(unsigned*);
using NvmlErrorStringFn = const char* (*)(NvmlReturn);
using CuInitFn = CuResult (*)(unsigned);
using CuIntFn = CuResult (*)(int*);
using CuErrorTextFn = CuResult (*)(CuResult, const char**);

// The one symbol list: every entry point used, newest version first.
#define DLRIG_DRIVER_SYMBOLS(X)                                                   \
  X(nvml_init, "nvmlInit_v2", "nvmlInit")                                          \
  X(nvml_driver_version, "nvmlSystemGetDriverVersion")                             \
  X(nvml_nvml_version, "nvmlSystemGetNVMLVersion")                                 \
  X(nvml_cuda_version, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion") \
  X(nvml_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")                     \
  X(nvml_handle, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")   \
  X(nvml_name, "nvmlDeviceGetName")                                                \
  X(nvml_uuid, "nvmlDeviceGetUUID")                                                \
  X(nvml_pci, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2")                \
  X(nvml_cc, "nvmlDeviceGetCudaComputeCapability")                                 \
  X(nvml_memory_v2, "nvmlDeviceGetMemoryInfo_v2")                                  \
  X(nvml_memory, "nvmlDeviceGetMemoryInfo")                                        \
  X(nvml_ecc_mode, "nvmlDeviceGetEccMode")                                         \
  X(nvml_ecc_total, "nvmlDeviceGetTotalEccErrors")                                 \
  X(nvml_retired, "nvmlDeviceGetRetiredPages")                                     \
  X(nvml_retired_pending, "nvmlDeviceGetRetiredPagesPendingStatus")                \
  X(nvml_remapped, "nvmlDeviceGetRemappedRows")                                    \
  X(nvml_mig_mode, "nvmlDeviceGetMigMode")                                         \
  X(nvml_mig_max, "nvmlDeviceGetMaxMigDeviceCount")                                \
  X(nvml_mig_handle, "nvmlDeviceGetMigDeviceHandleByIndex")                        \
  X(nvml_compute_mode, "nvmlDeviceGetComputeMode")                                 \
  X(nvml_persistence, "nvmlDeviceGetPersistenceMode")                              \
  X(nvml_gen_now, "nvmlDeviceGetCurrPcieLinkGeneration")                           \
  X(nvml_gen_max, "nvmlDeviceGetMaxPcieLinkGeneration")                            \
  X(nvml_width_now, "nvmlDeviceGetCurrPcieLinkWidth")                              \
  X(nvml_width_max, "nvmlDeviceGetMaxPcieLinkWidth")                               \
  X(nvml_temperature, "nvmlDeviceGetTemperature")                                  \
  X(nvml_power, "nvmlDeviceGetPowerUsage")                                         \
  X(nvml_power_limit, "nvmlDeviceGetEnforcedPowerLimit")                           \
  X(nvml_fabric, "nvmlDeviceGetGpuFabricInfo")                                     \
  X(nvml_shutdown, "nvmlShutdown")                                                 \
  X(nvml_error_string, "nvmlErrorString")                                          \
  X(cu_init, "cuInit")                                                             \
  X(cu_driver_version, "cuDriverGetVersion")                                       \
  X(cu_count, "cuDeviceGetCount")                                                  \
  X(cu_error_name, "cuGetErrorName")                                               \
  X(cu_error_string, "cuGetErrorString")

#define DLRIG_NAMES(member, ...) constexpr std::initializer_list<const char*> member = {__VA_ARGS__};
namespace names {
DLRIG_DRIVER_SYMBOLS(DLRIG_NAMES)
}
#undef DLRIG_NAMES

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Emitter {
 public:
  Emitter(int fd, const char* lib) : fd_(fd), lib_(lib) {}
  void Emit(std::string_view key, std::string_view rest) {
    std::string line = std::string(lib_) + " " + std::string(key) + " " + Escape(rest) + "\n";
    for (size_t done = 0; done < line.size();) {
      ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  const char* lib_;
};

struct Symbol {
  void* ptr = nullptr;
  std::string name;   ///< the version found, or the newest name when none was
  std::string error;  ///< dlerror() of the last lookup when none was found
};

Symbol Find(void* handle, std::initializer_list<const char*> list, Emitter* out) {
  Symbol sym{nullptr, *list.begin(), ""};
  for (const char* name : list) {
    ::dlerror();
    if (void* p = ::dlsym(handle, name)) return Symbol{p, name, ""};
    const char* err = ::dlerror();
    sym.error = err ? err : std::string("undefined symbol: ") + name;
  }
  if (out) out->Emit("missing", sym.name + " " + sym.error);
  return sym;
}

template <class Fn>
Fn As(const Symbol& s) { return reinterpret_cast<Fn>(s.ptr); }

std::string LoadedPath(void* handle, void* any_symbol) {
  struct link_map* map = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && map->l_name[0])
    return map->l_name;
  Dl_info info;
  if (any_symbol && ::dladdr(any_symbol, &info) && info.dli_fname) return info.dli_fname;
  return "?";
}

void* Open(const std::string& library, Emitter& out, std::initializer_list<const char*> probe) {
  ::dlerror();
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = ::dlerror();
    out.Emit("open_error", err ? err : "dlopen failed without dlerror()");
    return nullptr;
  }
  out.Emit("open", LoadedPath(handle, Find(handle, probe, nullptr).ptr));
  return handle;
}

std::string NvmlText(const Symbol& error_string, NvmlReturn code) {
  if (!error_string.ptr) return "(nvmlErrorString missing)";
  const char* text = As<NvmlErrorStringFn>(error_string)(code);
  return text ? text : "(null)";
}

// Calls `fn` and reports "return <name> <code> - <text>"; true on NVML_SUCCESS.
template <class F>
bool NvmlCall(Emitter& out, const Symbol& sym, const Symbol& error_string, F fn) {
  if (!sym.ptr) return false;
  out.Emit("call", sym.name);
  NvmlReturn code = fn();
  out.Emit("return", sym.name + " " + std::to_string(code) + " - " + NvmlText(error_string, code));
  return code == 0;
}

// One GPU's lines: "dev <i> call <fn>" before each call, then per field "dev <i> <field> = <v>",
// "dev <i> <field> <code> <fn> <text>" or "dev <i> <field> missing <fn> <dlerror>".
class DeviceAsker {
 public:
  DeviceAsker(Emitter& out, const Symbol& error_string, unsigned index)
      : out_(out), error_string_(error_string), index_(std::to_string(index)) {}

  /// Runs `fn` (an NVML call) for `fields`; on failure every field gets the call's answer.
  template <class F>
  bool Ask(const Symbol& sym, std::initializer_list<const char*> fields, F fn) {
    if (!sym.ptr) {
      for (const char* f : fields) Line(f, "missing " + sym.name + " " + sym.error);
      return false;
    }
    out_.Emit("dev", index_ + " call " + sym.name);
    NvmlReturn code = fn();
    if (code == 0) return true;
    for (const char* f : fields)
      Line(f, std::to_string(code) + " " + sym.name + " " + NvmlText(error_string_, code));
    return false;
  }
  void Value(const char* field, const std::string& value) { Line(field, "= " + value); }
  void Value(const char* field, unsigned long long value) { Value(field, std::to_string(value)); }

 private:
  void Line(const char* field, const std::string& rest) {
    out_.Emit("dev", index_ + " " + field + " " + rest);
  }
  Emitter& out_;
  const Symbol& error_string_;
  std::string index_;
};

struct DeviceSymbols {
#define DLRIG_DEVICE_MEMBER(member) Symbol member;
  DLRIG_DEVICE_MEMBER(handle) DLRIG_DEVICE_MEMBER(name) DLRIG_DEVICE_MEMBER(uuid)
  DLRIG_DEVICE_MEMBER(pci) DLRIG_DEVICE_MEMBER(cc) DLRIG_DEVICE_MEMBER(memory_v2)
  DLRIG_DEVICE_MEMBER(memory)
  DLRIG_DEVICE_MEMBER(ecc_mode) DLRIG_DEVICE_MEMBER(ecc_total) DLRIG_DEVICE_MEMBER(retired)
  DLRIG_DEVICE_MEMBER(retired_pending) DLRIG_DEVICE_MEMBER(remapped)
  DLRIG_DEVICE_MEMBER(mig_mode) DLRIG_DEVICE_MEMBER(mig_max) DLRIG_DEVICE_MEMBER(mig_handle)
  DLRIG_DEVICE_MEMBER(compute_mode) DLRIG_DEVICE_MEMBER(persistence)
  DLRIG_DEVICE_MEMBER(gen_now) DLRIG_DEVICE_MEMBER(gen_max) DLRIG_DEVICE_MEMBER(width_now)
  DLRIG_DEVICE_MEMBER(width_max) DLRIG_DEVICE_MEMBER(temperature) DLRIG_DEVICE_MEMBER(power)
  DLRIG_DEVICE_MEMBER(power_limit) DLRIG_DEVICE_MEMBER(fabric)
#undef DLRIG_DEVICE_MEMBER
};

// Optional symbols: a missing one fails only its fields, so it is not reported as a call.
DeviceSymbols FindDeviceSymbols(void* h) {
  return {Find(h, names::nvml_handle, nullptr),          Find(h, names::nvml_name, nullptr),
          Find(h, names::nvml_uuid, nullptr),            Find(h, names::nvml_pci, nullptr),
          Find(h, names::nvml_cc, nullptr),              Find(h, names::nvml_memory_v2, nullptr),
          Find(h, names::nvml_memory, nullptr),
          Find(h, names::nvml_ecc_mode, nullptr),        Find(h, names::nvml_ecc_total, nullptr),
          Find(h, names::nvml_retired, nullptr),         Find(h, names::nvml_retired_pending, nullptr),
          Find(h, names::nvml_remapped, nullptr),        Find(h, names::nvml_mig_mode, nullptr),
          Find(h, names::nvml_mig_max, nullptr),         Find(h, names::nvml_mig_handle, nullptr),
          Find(h, names::nvml_compute_mode, nullptr),    Find(h, names::nvml_persistence, nullptr),
          Find(h, names::nvml_gen_now, nullptr),         Find(h, names::nvml_gen_max, nullptr),
          Find(h, names::nvml_width_now, nullptr),       Find(h, names::nvml_width_max, nullptr),
          Find(h, names::nvml_temperature, nullptr),     Find(h, names::nvml_power, nullptr),
          Find(h, names::nvml_power_limit, nullptr),     Find(h, names::nvml_fabric, nullptr)};
}

// An unsigned getter: fn(device, &value).
void AskUnsigned(DeviceAsker& ask, const Symbol& sym, const char* field, NvmlDevice dev) {
  unsigned v = 0;
  using Fn = NvmlReturn (*)(NvmlDevice, unsigned*);
  if (ask.Ask(sym, {field}, [&] { return As<Fn>(sym)(dev, &v); })) ask.Value(field, v);
}

// The v2 struct first (nvidia-smi's "used"); drivers without it answer through v1.
void AskMemory(DeviceAsker& ask, const DeviceSymbols& s, NvmlDevice dev) {
  NvmlMemoryV2 v2{};
  v2.version = kNvmlMemoryV2Version;
  using MemV2Fn = NvmlReturn (*)(NvmlDevice, NvmlMemoryV2*);
  if (s.memory_v2.ptr && ask.Ask(s.memory_v2, {}, [&] { return As<MemV2Fn>(s.memory_v2)(dev, &v2); })) {
    ask.Value("memory_total_bytes", v2.total);
    ask.Value("memory_used_bytes", v2.used);
    return;
  }
  NvmlMemory mem{};
  using MemFn = NvmlReturn (*)(NvmlDevice, NvmlMemory*);
  if (ask.Ask(s.memory, {"memory_total_bytes", "memory_used_bytes"},
              [&] { return As<MemFn>(s.memory)(dev, &mem); })) {
    ask.Value("memory_total_bytes", mem.total);
    ask.Value("memory_used_bytes", mem.used);
  }
}

void AskIdentity(DeviceAsker& ask, const DeviceSymbols& s, NvmlDevice dev) {
  using StringFn = NvmlReturn (*)(NvmlDevice, char*, unsigned);
  char name[kNvmlNameBytes] = {}, uuid[kNvmlUuidBytes] = {};
  if (ask.Ask(s.name, {"name"}, [&] { return As<StringFn>(s.name)(dev, name, sizeof name); }))
    ask.Value("name", std::string(name, strnlen(name, sizeof name)));
  if (ask.Ask(s.uuid, {"uuid"}, [&] { return As<StringFn>(s.uuid)(dev, uuid, sizeof uuid); }))
    ask.Value("uuid", std::string(uuid, strnlen(uuid, sizeof uuid)));
  NvmlPciInfo pci{};
  using PciFn = NvmlReturn (*)(NvmlDevice, NvmlPciInfo*);
  if (ask.Ask(s.pci, {"pci_bus_id"}, [&] { return As<PciFn>(s.pci)(dev, &pci); })) {
    std::string id(pci.bus_id, strnlen(pci.bus_id, sizeof pci.bus_id));
    if (id.empty()) id.assign(pci.bus_id_legacy, strnlen(pci.bus_id_legacy, sizeof pci.bus_id_legacy));
    ask.Value("pci_bus_id", id);
  }
  int major = 0, minor = 0;
  using CcFn = NvmlReturn (*)(NvmlDevice, int*, int*);
  if (ask.Ask(s.cc, {"compute_capability"}, [&] { return As<CcFn>(s.cc)(dev, &major, &minor); }))
    ask.Value("compute_capability", std::to_string(major) + "." + std::to_string(minor));
  AskMemory(ask, s, dev);
}

void AskMemoryHealth(DeviceAsker& ask, const DeviceSymbols& s, NvmlDevice dev) {
  int current = 0, pending = 0;  // nvmlEnableState_t
  using ModeFn = NvmlReturn (*)(NvmlDevice, int*, int*);
  if (ask.Ask(s.ecc_mode, {"ecc_enabled", "ecc_pending_enabled"},
              [&] { return As<ModeFn>(s.ecc_mode)(dev, &current, &pending); })) {
    ask.Value("ecc_enabled", current != 0 ? "1" : "0");
    ask.Value("ecc_pending_enabled", pending != 0 ? "1" : "0");
  }
  using EccFn = NvmlReturn (*)(NvmlDevice, int, int, unsigned long long*);
  for (auto [field, counter] : {std::pair{"ecc_uncorrected_volatile", kNvmlVolatileEcc},
                                std::pair{"ecc_uncorrected_aggregate", kNvmlAggregateEcc}}) {
    unsigned long long n = 0;
    if (ask.Ask(s.ecc_total, {field},
                [&] { return As<EccFn>(s.ecc_total)(dev, kNvmlUncorrected, counter, &n); }))
      ask.Value(field, n);
  }
  using RetiredFn = NvmlReturn (*)(NvmlDevice, int, unsigned*, unsigned long long*);
  for (auto [field, cause] : {std::pair{"retired_pages_sbe", kNvmlRetiredSbe},
                              std::pair{"retired_pages_dbe", kNvmlRetiredDbe}}) {
    unsigned long long pages[kRetiredPagesBuffer];
    unsigned count = kRetiredPagesBuffer;
    auto call = [&] {  // a full buffer still sets the count
      NvmlReturn r = As<RetiredFn>(s.retired)(dev, cause, &count, pages);
      return r == kNvmlInsufficientSize ? 0 : r;
    };
    if (ask.Ask(s.retired, {field}, call)) ask.Value(field, count);
  }
  int retired_pending = 0;
  using PendingFn = NvmlReturn (*)(NvmlDevice, int*);
  if (ask.Ask(s.retired_pending, {"retired_pages_pending"},
              [&] { return As<PendingFn>(s.retired_pending)(dev, &retired_pending); }))
    ask.Value("retired_pages_pending", retired_pending != 0 ? "1" : "0");
  unsigned corr = 0, unc = 0, is_pending = 0, failed = 0;
  using RowsFn = NvmlReturn (*)(NvmlDevice, unsigned*, unsigned*, unsigned*, unsigned*);
  if (ask.Ask(s.remapped,
              {"remapped_rows_correctable", "remapped_rows_uncorrectable", "remap_pending",
               "remap_failed"},
              [&] { return As<RowsFn>(s.remapped)(dev, &corr, &unc, &is_pending, &failed); })) {
    ask.Value("remapped_rows_correctable", corr);
    ask.Value("remapped_rows_uncorrectable", unc);
    ask.Value("remap_pending", is_pending != 0 ? "1" : "0");
    ask.Value("remap_failed", failed != 0 ? "1" : "0");
  }
}

// MIG devices are counted only when MIG is on: otherwise there are none to find.
void AskMig(DeviceAsker& ask, const DeviceSymbols& s, NvmlDevice dev) {
  unsigned current = 0, pending = 0;
  using ModeFn = NvmlReturn (*)(NvmlDevice, unsigned*, unsigned*);
  if (!ask.Ask(s.mig_mode, {"mig_enabled", "mig_pending_enabled"},
               [&] { return As<ModeFn>(s.mig_mode)(dev, &current, &pending); }))
    return;
  ask.Value("mig_enabled", current == kNvmlMigEnable ? "1" : "0");
  ask.Value("mig_pending_enabled", pending == kNvmlMigEnable ? "1" : "0");
  if (current != kNvmlMigEnable) return;
  unsigned max = 0;
  using MaxFn = NvmlReturn (*)(NvmlDevice, unsigned*);
  if (!ask.Ask(s.mig_max, {"mig_devices"}, [&] { return As<MaxFn>(s.mig_max)(dev, &max); }))
    return;
  unsigned found = 0;
  using HandleFn = NvmlReturn (*)(NvmlDevice, unsigned, NvmlDevice*);
  for (unsigned i = 0; i < max && i < kMaxMigDevices; ++i) {
    NvmlDevice mig = nullptr;
    bool ok = ask.Ask(s.mig_handle, {"mig_devices"}, [&] {
      NvmlReturn r = As<HandleFn>(s.mig_handle)(dev, i, &mig);
      if (r == 0) ++found;
      return r == kNvmlNotFound ? 0 : r;  // an empty slot
    });
    if (!ok) return;
  }
  ask.Value("mig_devices", found);
}

void AskState(DeviceAsker& ask, const DeviceSymbols& s, NvmlDevice dev) {
  int mode = 0;  // nvmlComputeMode_t, nvmlEnableState_t
  using IntFn = NvmlReturn (*)(NvmlDevice, int*);
  if (ask.Ask(s.compute_mode, {"compute_mode"},
              [&] { return As<IntFn>(s.compute_mode)(dev, &mode); }))
    ask.Value("compute_mode", std::to_string(mode));
  if (ask.Ask(s.persistence, {"persistence_mode"},
              [&] { return As<IntFn>(s.persistence)(dev, &mode); }))
    ask.Value("persistence_mode", mode != 0 ? "1" : "0");
  AskUnsigned(ask, s.gen_now, "pcie_gen_now", dev);
  AskUnsigned(ask, s.gen_max, "pcie_gen_max", dev);
  AskUnsigned(ask, s.width_now, "pcie_width_now", dev);
  AskUnsigned(ask, s.width_max, "pcie_width_max", dev);
  unsigned temp = 0;
  using TempFn = NvmlReturn (*)(NvmlDevice, int, unsigned*);
  if (ask.Ask(s.temperature, {"temperature_c"},
              [&] { return As<TempFn>(s.temperature)(dev, kNvmlTemperatureGpu, &temp); }))
    ask.Value("temperature_c", temp);
  AskUnsigned(ask, s.power, "power_mw", dev);
  AskUnsigned(ask, s.power_limit, "power_limit_mw", dev);
  NvmlGpuFabricInfo fabric{};
  using FabricFn = NvmlReturn (*)(NvmlDevice, NvmlGpuFabricInfo*);
  if (ask.Ask(s.fabric, {"fabric_state", "fabric_status"},
              [&] { return As<FabricFn>(s.fabric)(dev, &fabric); })) {
    ask.Value("fabric_state", std::to_string(fabric.state));
    ask.Value("fabric_status", std::to_string(fabric.status));
  }
}

void QueryDevices(Emitter& out, void* h, const Symbol& err, unsigned count) {
  DeviceSymbols s = FindDeviceSymbols(h);
  for (unsigned i = 0; i < count && i < static_cast<unsigned>(kMaxQueriedGpus); ++i) {
    DeviceAsker ask(out, err, i);
    NvmlDevice dev = nullptr;
    using HandleFn = NvmlReturn (*)(unsigned, NvmlDevice*);
    if (!ask.Ask(s.handle, {"handle"}, [&] { return As<HandleFn>(s.handle)(i, &dev); }))
      continue;
    AskIdentity(ask, s, dev);
    AskMemoryHealth(ask, s, dev);
    AskMig(ask, s, dev);
    AskState(ask, s, dev);
  }
}

void QueryNvml(int fd, const std::string& library) {
  Emitter out(fd, "nvml");
  void* h = Open(library, out, names::nvml_init);
  if (!h) return;
  Symbol err = Find(h, names::nvml_error_string, &out);
  Symbol init = Find(h, names::nvml_init, &out);
  if (!NvmlCall(out, init, err, [&] { return As<NvmlVoidFn>(init)(); })) return;
  char buf[kNvmlVersionBufferBytes] = {};
  Symbol s = Find(h, names::nvml_driver_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlStringFn>(s)(buf, sizeof buf); }))
    out.Emit("value", std::string("driver_version ") + buf);
  s = Find(h, names::nvml_nvml_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlStringFn>(s)(buf, sizeof buf); }))
    out.Emit("value", std::string("nvml_version ") + buf);
  int cuda = 0;
  s = Find(h, names::nvml_cuda_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlIntFn>(s)(&cuda); }))
    out.Emit("value", "cuda_driver_version " + std::to_string(cuda));
  unsigned count = 0;
  s = Find(h, names::nvml_count, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlUintFn>(s)(&count); })) {
    out.Emit("value", "device_count " + std::to_string(count));
    QueryDevices(out, h, err, count);
  }
  s = Find(h, names::nvml_shutdown, &out);
  NvmlCall(out, s, err, [&] { return As<NvmlVoidFn>(s)(); });
}

template <class F>
bool CuCall(Emitter& out, const Symbol& sym, const Symbol& name_fn, const Symbol& text_fn, F fn) {
  if (!sym.ptr) return false;
  out.Emit("call", sym.name);
  CuResult code = fn();
  const char* name = nullptr;
  const char* text = nullptr;
  if (code != 0 && name_fn.ptr) As<CuErrorTextFn>(name_fn)(code, &name);
  if (code != 0 && text_fn.ptr) As<CuErrorTextFn>(text_fn)(code, &text);
  out.Emit("return", sym.name + " " + std::to_string(code) + " " + (name ? name : "-") + " " +
                         (code == 0 ? "no error" : text ? text : "(no error string)"));
  return code == 0;
}

void QueryCuda(int fd, const std::string& library) {
  Emitter out(fd, "cuda");
  void* h = Open(library, out, names::cu_init);
  if (!h) return;
  Symbol name = Find(h, names::cu_error_name, &out);
  Symbol text = Find(h, names::cu_error_string, &out);
  int value = 0;
  Symbol s = Find(h, names::cu_driver_version, &out);  // works before cuInit
  if (CuCall(out, s, name, text, [&] { return As<CuIntFn>(s)(&value); }))
    out.Emit("value", "cuda_driver_version " + std::to_string(value));
  Symbol init = Find(h, names::cu_init, &out);
  if (!CuCall(out, init, name, text, [&] { return As<CuInitFn>(init)(0); })) return;
  s = Find(h, names::cu_count, &out);
  if (CuCall(out, s, name, text, [&] { return As<CuIntFn>(s)(&value); }))
    out.Emit("value", "device_count " + std::to_string(value));
}

}  // namespace

void DriverQueryChildMain(int fd, const DriverQueryOptions& options) {
  // An empty name skips that library (QueryDriver runs one child per library).
  if (!options.nvml_library.empty()) QueryNvml(fd, options.nvml_library);
  if (!options.cuda_library.empty()) QueryCuda(fd, options.cuda_library);
}

}  // namespace dlrig
