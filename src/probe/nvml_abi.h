// Our own minimal ABI of libnvidia-ml (no NVIDIA headers at build time): the types, constants
// and structs of the entry points the driver query calls, and the one symbol list, newest
// symbol version first. Signatures and values from nvml.h as aggregated in NVIDIA/DCGM
// sdk/nvidia/nvml/dcgm_nvml.h (NVML_API_VERSION 12, DCGM commit 72fa3fea, 2026-07-06).
// Internal to the driver query child.
#pragma once

#include <initializer_list>

namespace dlrig::nvml {

// nvmlReturn_t and CUresult are C enums (int-sized).
using Return = int;
using CuResult = int;
static_assert(sizeof(Return) == 4 && sizeof(CuResult) == 4, "enums are 32-bit");
using Device = void*;  // nvmlDevice_t: an opaque pointer

constexpr unsigned kVersionBufferBytes = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE
constexpr unsigned kNameBytes = 96;           // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kUuidBytes = 96;           // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kSerialBytes = 30;         // NVML_DEVICE_SERIAL_BUFFER_SIZE
constexpr int kCorrected = 0;                 // NVML_MEMORY_ERROR_TYPE_CORRECTED
constexpr int kUncorrected = 1;               // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int kVolatileEcc = 0;               // NVML_VOLATILE_ECC
constexpr int kAggregateEcc = 1;              // NVML_AGGREGATE_ECC
constexpr int kRetiredSbe = 0;  // NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS
constexpr int kRetiredDbe = 1;  // NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR
constexpr int kTemperatureGpu = 0;            // NVML_TEMPERATURE_GPU
// nvmlTemperatureThresholds_t
constexpr int kThresholdShutdown = 0, kThresholdSlowdown = 1, kThresholdMemMax = 2,
              kThresholdGpuMax = 3;
// nvmlClockType_t
constexpr int kClockGraphics = 0, kClockSm = 1, kClockMem = 2;
// nvmlPcieUtilCounter_t
constexpr int kPcieTxBytes = 0, kPcieRxBytes = 1;
constexpr unsigned kFieldMemoryTemp = 82;     // NVML_FI_DEV_MEMORY_TEMP
constexpr unsigned kNvLinkMaxLinks = 18;      // NVML_NVLINK_MAX_LINKS
constexpr unsigned kMigEnable = 1;
constexpr int kP2pCapsNvlink = 2;             // NVML_P2P_CAPS_INDEX_NVLINK
constexpr int kP2pStatusOk = 0;               // NVML_P2P_STATUS_OK            // NVML_DEVICE_MIG_ENABLE
constexpr unsigned long long kValueNotAvailable = ~0ULL;  // NVML_VALUE_NOT_AVAILABLE
constexpr Return kSuccess = 0;
constexpr Return kInvalidArgument = 2;        // NVML_ERROR_INVALID_ARGUMENT
constexpr Return kNotSupported = 3;           // NVML_ERROR_NOT_SUPPORTED
constexpr Return kNotFound = 6;               // NVML_ERROR_NOT_FOUND
constexpr Return kInsufficientSize = 7;       // NVML_ERROR_INSUFFICIENT_SIZE
constexpr unsigned kRetiredPagesBuffer = 256;  // pages listed per cause; more only counted
constexpr unsigned kMaxMigDevices = 64;
constexpr unsigned kMaxProcesses = 1024;

struct PciInfo {  // nvmlPciInfo_t
  char bus_id_legacy[16];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE
  unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
  char bus_id[32];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE
};
static_assert(sizeof(PciInfo) == 68, "nvmlPciInfo_t");
struct Memory {  // nvmlMemory_t (nvmlDeviceGetMemoryInfo): used = reserved + allocated
  unsigned long long total, free, used;
};
static_assert(sizeof(Memory) == 24, "nvmlMemory_t");
struct MemoryV2 {  // nvmlMemory_v2_t: used = allocated only, as nvidia-smi shows it
  unsigned version;
  unsigned long long total, reserved, free, used;
};
static_assert(sizeof(MemoryV2) == 40, "nvmlMemory_v2_t");
constexpr unsigned kMemoryV2Version = sizeof(MemoryV2) | (2u << 24);  // nvmlMemory_v2
struct GpuFabricInfo {  // nvmlGpuFabricInfo_t (the unversioned struct)
  unsigned char cluster_uuid[16];  // NVML_GPU_FABRIC_UUID_LEN
  Return status;
  unsigned clique_id;
  unsigned char state;  // nvmlGpuFabricState_t
};
static_assert(sizeof(GpuFabricInfo) == 28, "nvmlGpuFabricInfo_t");
struct Utilization {  // nvmlUtilization_t, percent over the last sample period
  unsigned gpu, memory;
};
static_assert(sizeof(Utilization) == 8, "nvmlUtilization_t");
struct FieldValue {  // nvmlFieldValue_t
  unsigned field_id, scope_id;
  long long timestamp, latency_us;
  int value_type;  // nvmlValueType_t
  Return result;
  union {
    double d;
    unsigned ui;
    unsigned long ul;
    unsigned long long ull;
    long long sll;
    int si;
    unsigned short us;
  } value;
};
static_assert(sizeof(FieldValue) == 40, "nvmlFieldValue_t");
struct ProcessInfo {  // nvmlProcessInfo_t (the _v2 and _v3 process lists)
  unsigned pid;
  unsigned long long used_gpu_memory;  // kValueNotAvailable when NVML cannot say
  unsigned gpu_instance_id, compute_instance_id;
};
static_assert(sizeof(ProcessInfo) == 24, "nvmlProcessInfo_t");

// The one symbol list: every entry point used, newest version first.
#define DLRIG_NVML_SYMBOLS(X)                                                       \
  X(init, "nvmlInit_v2", "nvmlInit")                                                \
  X(driver_version, "nvmlSystemGetDriverVersion")                                   \
  X(nvml_version, "nvmlSystemGetNVMLVersion")                                       \
  X(cuda_version, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion") \
  X(count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")                           \
  X(shutdown, "nvmlShutdown")                                                       \
  X(error_string, "nvmlErrorString")

#define DLRIG_NVML_DEVICE_SYMBOLS(X)                                                \
  X(handle, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")          \
  X(name, "nvmlDeviceGetName")                                                      \
  X(uuid, "nvmlDeviceGetUUID")                                                      \
  X(serial, "nvmlDeviceGetSerial")                                                  \
  X(pci, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2")                      \
  X(cc, "nvmlDeviceGetCudaComputeCapability")                                       \
  X(memory_v2, "nvmlDeviceGetMemoryInfo_v2")                                        \
  X(memory, "nvmlDeviceGetMemoryInfo")                                              \
  X(bus_width, "nvmlDeviceGetMemoryBusWidth")                                       \
  X(ecc_mode, "nvmlDeviceGetEccMode")                                               \
  X(ecc_total, "nvmlDeviceGetTotalEccErrors")                                       \
  X(retired, "nvmlDeviceGetRetiredPages")                                           \
  X(retired_pending, "nvmlDeviceGetRetiredPagesPendingStatus")                      \
  X(remapped, "nvmlDeviceGetRemappedRows")                                          \
  X(mig_mode, "nvmlDeviceGetMigMode")                                               \
  X(mig_max, "nvmlDeviceGetMaxMigDeviceCount")                                      \
  X(mig_handle, "nvmlDeviceGetMigDeviceHandleByIndex")                              \
  X(compute_mode, "nvmlDeviceGetComputeMode")                                       \
  X(persistence, "nvmlDeviceGetPersistenceMode")                                    \
  X(gen_now, "nvmlDeviceGetCurrPcieLinkGeneration")                                 \
  X(gen_max, "nvmlDeviceGetMaxPcieLinkGeneration")                                  \
  X(width_now, "nvmlDeviceGetCurrPcieLinkWidth")                                    \
  X(width_max, "nvmlDeviceGetMaxPcieLinkWidth")                                     \
  X(replay, "nvmlDeviceGetPcieReplayCounter")                                       \
  X(pcie_throughput, "nvmlDeviceGetPcieThroughput")                                 \
  X(temperature, "nvmlDeviceGetTemperature")                                        \
  X(threshold, "nvmlDeviceGetTemperatureThreshold")                                 \
  X(field_values, "nvmlDeviceGetFieldValues")                                       \
  X(power, "nvmlDeviceGetPowerUsage")                                               \
  X(power_limit, "nvmlDeviceGetEnforcedPowerLimit")                                 \
  X(power_default, "nvmlDeviceGetPowerManagementDefaultLimit")                      \
  X(energy, "nvmlDeviceGetTotalEnergyConsumption")                                  \
  X(clock, "nvmlDeviceGetClockInfo")                                                \
  X(max_clock, "nvmlDeviceGetMaxClockInfo")                                         \
  X(utilization, "nvmlDeviceGetUtilizationRates")                                   \
  X(fan, "nvmlDeviceGetFanSpeed")                                                   \
  X(pstate, "nvmlDeviceGetPerformanceState")                                        \
  X(clock_events, "nvmlDeviceGetCurrentClocksEventReasons",                         \
    "nvmlDeviceGetCurrentClocksThrottleReasons")                                    \
  X(nvlink_state, "nvmlDeviceGetNvLinkState")                                       \
  X(nvlink_version, "nvmlDeviceGetNvLinkVersion")                                   \
  X(nvlink_remote, "nvmlDeviceGetNvLinkRemotePciInfo_v2")                           \
  X(compute_processes, "nvmlDeviceGetComputeRunningProcesses_v3",                   \
    "nvmlDeviceGetComputeRunningProcesses_v2")                                      \
  X(graphics_processes, "nvmlDeviceGetGraphicsRunningProcesses_v3",                 \
    "nvmlDeviceGetGraphicsRunningProcesses_v2")                                     \
  X(topology, "nvmlDeviceGetTopologyCommonAncestor")                                \
  X(p2p_status, "nvmlDeviceGetP2PStatus")                                           \
  X(fabric, "nvmlDeviceGetGpuFabricInfo")

#define DLRIG_CUDA_SYMBOLS(X)                                                       \
  X(init, "cuInit")                                                                 \
  X(driver_version, "cuDriverGetVersion")                                           \
  X(count, "cuDeviceGetCount")                                                      \
  X(error_name, "cuGetErrorName")                                                   \
  X(error_string, "cuGetErrorString")

#define DLRIG_SYMBOL_NAMES(member, ...) \
  inline constexpr std::initializer_list<const char*> member = {__VA_ARGS__};
namespace names {
DLRIG_NVML_SYMBOLS(DLRIG_SYMBOL_NAMES)
DLRIG_NVML_DEVICE_SYMBOLS(DLRIG_SYMBOL_NAMES)
}  // namespace names
namespace cuda_names {
DLRIG_CUDA_SYMBOLS(DLRIG_SYMBOL_NAMES)
}  // namespace cuda_names
#undef DLRIG_SYMBOL_NAMES

}  // namespace dlrig::nvml
