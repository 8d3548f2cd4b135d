/* Fault-injection NVML: the one stand-in the project allows (DESIGN.md, Testing). Built by the
 * tests as libnvidia-ml.so.1 with NVML's ABI for the entry points dlrig's driver query calls
 * (src/probe/driver_query_child.cc); every answer comes from the file named by DLRIG_FAKE_NVML,
 * lines of key=value:
 *
 *   init=<nvmlReturn_t>            what nvmlInit_v2 returns (default 0)
 *   hang_in_init=1                 nvmlInit_v2 never returns (the deadline must cut it)
 *   crash_in_init=1                nvmlInit_v2 dies with SIGSEGV (the child must contain it)
 *   driver_version=, nvml_version=, cuda_version=, device_count=
 *   gpu<i>.<field>=<value>         name uuid pci_bus_id cc_major cc_minor memory_total memory_used
 *                                  memory_reserved
 *                                  ecc_mode ecc_pending ecc_volatile_uncorrected
 *                                  ecc_aggregate_uncorrected retired_sbe retired_dbe
 *                                  retired_pending remap_corr remap_unc remap_pending
 *                                  remap_failure mig_mode mig_pending mig_max mig_devices
 *                                  compute_mode persistence pcie_gen pcie_gen_max pcie_width
 *                                  pcie_width_max temperature power power_limit fabric_state
 *                                  fabric_status
 *                                  serial pci_device_id bus_width power_default_limit
 *                                  temp_shutdown temp_slowdown temp_mem_max temp_gpu_max
 *                                  clock_sm_max clock_mem_max clock_sm clock_mem clock_graphics
 *                                  util_gpu util_mem memory_temp fan pstate energy clock_events
 *                                  replay pcie_tx pcie_rx ecc_volatile_corrected
 *                                  ecc_aggregate_corrected
 *   gpu<i>.nvlinks=<n>             links 0..n-1 (0: NOT_SUPPORTED, a GPU without NVLink), with
 *   gpu<i>.nvlink<k>.active=1, gpu<i>.nvlink<k>.remote=<bus id>
 *   gpu<i>.processes=<pid>:<bytes>,...   compute processes (bytes "-": not available)
 *   gpu<i>.graphics_processes=...        graphics processes
 *   gpu<i>.topology<j>=<level>     nvmlGpuTopologyLevel_t to GPU j (default 50, SYS)
 *   gpu<i>.nvlink_p2p<j>=1         GPU j is reachable over NVLink (P2P status OK)
 *   gpu<i>.lost=1                  every call for GPU i returns 15 (GPU_IS_LOST)
 *   gpu<i>.fail.<function>=<code>  that call returns <code> for GPU i (3: NOT_SUPPORTED)
 *   gpu<i>.hang.<function>=1       that call never returns
 *
 * Unset numbers are 0 and unset strings are made from the index. The file is read again
 * whenever it changes, so a test can lose a GPU or hang a call while a sampler runs.
 * Built a second time with FAKE_NVML_OLD_DRIVER: without the entry points newer drivers
 * added, so the caller must fall back to older names or report the field unsupported. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
typedef void* nvmlDevice_t;

typedef struct {
  char busIdLegacy[16];
  unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
  unsigned version;
  unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

typedef struct {
  unsigned char clusterUuid[16];
  nvmlReturn_t status;
  unsigned cliqueId;
  unsigned char state;
} nvmlGpuFabricInfo_t;

enum { kMaxEntries = 512, kMaxGpus = 64 };
static char keys[kMaxEntries][96];
static char values[kMaxEntries][128];
static int entries = -1;
static struct timespec loaded_mtime;

static void Load(void) {
  const char* path = getenv("DLRIG_FAKE_NVML");
  struct stat st;
  int have = path && stat(path, &st) == 0;
  if (entries >= 0 && (!have || (st.st_mtim.tv_sec == loaded_mtime.tv_sec &&
                                 st.st_mtim.tv_nsec == loaded_mtime.tv_nsec)))
    return;
  entries = 0;
  if (have) loaded_mtime = st.st_mtim;
  FILE* f = path ? fopen(path, "r") : NULL;
  if (!f) return;
  char line[256];
  while (entries < kMaxEntries && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    char* eq = strchr(line, '=');
    if (!eq || line[0] == '#') continue;
    *eq = '\0';
    if (strlen(line) >= sizeof keys[0] || strlen(eq + 1) >= sizeof values[0]) continue;
    memcpy(keys[entries], line, strlen(line) + 1);
    memcpy(values[entries], eq + 1, strlen(eq + 1) + 1);
    ++entries;
  }
  fclose(f);
}

static const char* Get(const char* key) {
  Load();
  for (int i = entries - 1; i >= 0; --i)
    if (strcmp(keys[i], key) == 0) return values[i];
  return NULL;
}

static long long Number(const char* key) {
  const char* v = Get(key);
  return v ? strtoll(v, NULL, 0) : 0;
}

static long long GpuNumber(unsigned gpu, const char* field) {
  char key[96];
  snprintf(key, sizeof key, "gpu%u.%s", gpu, field);
  return Number(key);
}

static const char* GpuString(unsigned gpu, const char* field) {
  char key[96];
  snprintf(key, sizeof key, "gpu%u.%s", gpu, field);
  return Get(key);
}

static void Hang(void) {
  for (;;) pause();
}

/* Decodes a handle and applies gpu<i>.fail / gpu<i>.hang for `function`; 0 to go on. */
static nvmlReturn_t Enter(nvmlDevice_t device, const char* function, unsigned* gpu) {
  uintptr_t h = (uintptr_t)device;
  if (h == 0 || h > kMaxGpus || h > (uintptr_t)Number("device_count")) return 2; /* INVALID_ARGUMENT */
  *gpu = (unsigned)(h - 1);
  if (GpuNumber(*gpu, "lost")) return 15; /* NVML_ERROR_GPU_IS_LOST, for every call */
  char key[128];
  snprintf(key, sizeof key, "gpu%u.hang.%s", *gpu, function);
  if (Get(key)) Hang();
  snprintf(key, sizeof key, "gpu%u.fail.%s", *gpu, function);
  return (nvmlReturn_t)Number(key);
}

#define ENTER(device, gpu)                            \
  unsigned gpu = 0;                                   \
  nvmlReturn_t entered = Enter(device, __func__, &gpu); \
  if (entered != 0) return entered

static void Copy(char* out, unsigned length, const char* text) {
  if (length == 0) return;
  snprintf(out, length, "%s", text);
}

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  if (Number("hang_in_init")) Hang();
  if (Number("crash_in_init")) raise(SIGSEGV);
  return (nvmlReturn_t)Number("init");
}

EXPORT nvmlReturn_t nvmlShutdown(void) { return 0; }

EXPORT const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 18: return "Driver/library version mismatch";
    default: return "Unknown Error";
  }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned length) {
  const char* v = Get("driver_version");
  Copy(version, length, v ? v : "580.159.04");
  return 0;
}

EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char* version, unsigned length) {
  const char* v = Get("nvml_version");
  Copy(version, length, v ? v : "13.580.159.04");
  return 0;
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int* version) {
  *version = Get("cuda_version") ? (int)Number("cuda_version") : 13000;
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* count) {
  *count = (unsigned)Number("device_count");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t* device) {
  if (index >= (unsigned)Number("device_count") || index >= kMaxGpus) return 2;
  nvmlReturn_t fail = (nvmlReturn_t)GpuNumber(index, "fail.nvmlDeviceGetHandleByIndex_v2");
  if (fail) return fail;
  *device = (nvmlDevice_t)(uintptr_t)(index + 1);
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned length) {
  ENTER(device, gpu);
  const char* v = GpuString(gpu, "name");
  Copy(name, length, v ? v : "Fake GPU");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned length) {
  ENTER(device, gpu);
  const char* v = GpuString(gpu, "uuid");
  char made[64];
  snprintf(made, sizeof made, "GPU-00000000-0000-0000-0000-%012u", gpu);
  Copy(uuid, length, v ? v : made);
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  ENTER(device, gpu);
  memset(pci, 0, sizeof *pci);
  const char* v = GpuString(gpu, "pci_bus_id");
  char made[32];
  snprintf(made, sizeof made, "00000000:%02X:00.0", gpu + 1);
  Copy(pci->busId, sizeof pci->busId, v ? v : made);
  pci->bus = gpu + 1;
  pci->pciDeviceId = (unsigned)GpuNumber(gpu, "pci_device_id");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int* major, int* minor) {
  ENTER(device, gpu);
  *major = (int)GpuNumber(gpu, "cc_major");
  *minor = (int)GpuNumber(gpu, "cc_minor");
  return 0;
}

/* v1 counts the reserved memory as used; v2 reports it apart. */
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  ENTER(device, gpu);
  memory->total = (unsigned long long)GpuNumber(gpu, "memory_total");
  memory->used = (unsigned long long)(GpuNumber(gpu, "memory_used") + GpuNumber(gpu, "memory_reserved"));
  memory->free = memory->total - memory->used;
  return 0;
}

#ifndef FAKE_NVML_OLD_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
  ENTER(device, gpu);
  if (memory->version != (unsigned)(sizeof(nvmlMemory_v2_t) | (2u << 24))) return 25; /* ARGUMENT_VERSION_MISMATCH */
  memory->total = (unsigned long long)GpuNumber(gpu, "memory_total");
  memory->reserved = (unsigned long long)GpuNumber(gpu, "memory_reserved");
  memory->used = (unsigned long long)GpuNumber(gpu, "memory_used");
  memory->free = memory->total - memory->used - memory->reserved;
  return 0;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, int* current, int* pending) {
  ENTER(device, gpu);
  *current = (int)GpuNumber(gpu, "ecc_mode");
  *pending = (int)GpuNumber(gpu, "ecc_pending");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int error_type, int counter,
                                                unsigned long long* count) {
  ENTER(device, gpu);
  if (error_type == 1)
    *count = (unsigned long long)GpuNumber(
        gpu, counter == 0 ? "ecc_volatile_uncorrected" : "ecc_aggregate_uncorrected");
  else
    *count = (unsigned long long)GpuNumber(
        gpu, counter == 0 ? "ecc_volatile_corrected" : "ecc_aggregate_corrected");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, int cause, unsigned* count,
                                              unsigned long long* addresses) {
  ENTER(device, gpu);
  unsigned n = (unsigned)GpuNumber(gpu, cause == 0 ? "retired_sbe" : "retired_dbe");
  unsigned room = *count;
  *count = n;
  for (unsigned i = 0; i < n && i < room && addresses; ++i) addresses[i] = 0x1000ull * (i + 1);
  return n > room ? 7 : 0; /* INSUFFICIENT_SIZE */
}

EXPORT nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, int* pending) {
  ENTER(device, gpu);
  *pending = (int)GpuNumber(gpu, "retired_pending");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned* corr, unsigned* unc,
                                              unsigned* pending, unsigned* failure) {
  ENTER(device, gpu);
  *corr = (unsigned)GpuNumber(gpu, "remap_corr");
  *unc = (unsigned)GpuNumber(gpu, "remap_unc");
  *pending = (unsigned)GpuNumber(gpu, "remap_pending");
  *failure = (unsigned)GpuNumber(gpu, "remap_failure");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned* current, unsigned* pending) {
  ENTER(device, gpu);
  *current = (unsigned)GpuNumber(gpu, "mig_mode");
  *pending = (unsigned)GpuNumber(gpu, "mig_pending");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned* count) {
  ENTER(device, gpu);
  *count = (unsigned)GpuNumber(gpu, "mig_max");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned index,
                                                        nvmlDevice_t* mig) {
  ENTER(device, gpu);
  if (index >= (unsigned)GpuNumber(gpu, "mig_max")) return 2;
  if (index >= (unsigned)GpuNumber(gpu, "mig_devices")) return 6; /* NOT_FOUND */
  *mig = (nvmlDevice_t)(uintptr_t)(0x10000 + gpu * 0x100 + index);
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeMode(nvmlDevice_t device, int* mode) {
  ENTER(device, gpu);
  *mode = (int)GpuNumber(gpu, "compute_mode");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, int* mode) {
  ENTER(device, gpu);
  *mode = (int)GpuNumber(gpu, "persistence");
  return 0;
}

#define UNSIGNED_GETTER(function, field)                          \
  EXPORT nvmlReturn_t function(nvmlDevice_t device, unsigned* v) { \
    ENTER(device, gpu);                                           \
    *v = (unsigned)GpuNumber(gpu, field);                         \
    return 0;                                                     \
  }
UNSIGNED_GETTER(nvmlDeviceGetCurrPcieLinkGeneration, "pcie_gen")
UNSIGNED_GETTER(nvmlDeviceGetMaxPcieLinkGeneration, "pcie_gen_max")
UNSIGNED_GETTER(nvmlDeviceGetCurrPcieLinkWidth, "pcie_width")
UNSIGNED_GETTER(nvmlDeviceGetMaxPcieLinkWidth, "pcie_width_max")
UNSIGNED_GETTER(nvmlDeviceGetPowerUsage, "power")
UNSIGNED_GETTER(nvmlDeviceGetEnforcedPowerLimit, "power_limit")
UNSIGNED_GETTER(nvmlDeviceGetMemoryBusWidth, "bus_width")
UNSIGNED_GETTER(nvmlDeviceGetPowerManagementDefaultLimit, "power_default_limit")
UNSIGNED_GETTER(nvmlDeviceGetFanSpeed, "fan")
UNSIGNED_GETTER(nvmlDeviceGetPcieReplayCounter, "replay")

EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char* serial, unsigned length) {
  ENTER(device, gpu);
  const char* v = GpuString(gpu, "serial");
  char made[32];
  snprintf(made, sizeof made, "165032400%04u", gpu);
  Copy(serial, length, v ? v : made);
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, int which, unsigned* t) {
  ENTER(device, gpu);
  static const char* const fields[] = {"temp_shutdown", "temp_slowdown", "temp_mem_max", "temp_gpu_max"};
  if (which < 0 || which > 3) return 2;
  *t = (unsigned)GpuNumber(gpu, fields[which]);
  return 0;
}

static const char* ClockField(int type, int max) {
  static const char* const now[] = {"clock_graphics", "clock_sm", "clock_mem"};
  static const char* const top[] = {"clock_graphics_max", "clock_sm_max", "clock_mem_max"};
  return type < 0 || type > 2 ? NULL : max ? top[type] : now[type];
}

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned* mhz) {
  ENTER(device, gpu);
  if (!ClockField(type, 0)) return 2;
  *mhz = (unsigned)GpuNumber(gpu, ClockField(type, 0));
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, int type, unsigned* mhz) {
  ENTER(device, gpu);
  if (!ClockField(type, 1)) return 2;
  *mhz = (unsigned)GpuNumber(gpu, ClockField(type, 1));
  return 0;
}

typedef struct {
  unsigned gpu, memory;
} nvmlUtilization_t;

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* u) {
  ENTER(device, gpu);
  u->gpu = (unsigned)GpuNumber(gpu, "util_gpu");
  u->memory = (unsigned)GpuNumber(gpu, "util_mem");
  return 0;
}

typedef struct {
  unsigned fieldId, scopeId;
  long long timestamp, latencyUsec;
  int valueType;
  nvmlReturn_t nvmlReturn;
  union {
    double dVal;
    unsigned uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    long long sllVal;
    int siVal;
    unsigned short usVal;
  } value;
} nvmlFieldValue_t;

/* Only NVML_FI_DEV_MEMORY_TEMP (82) is known; others answer NOT_SUPPORTED per field. */
EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int count, nvmlFieldValue_t* values) {
  ENTER(device, gpu);
  for (int i = 0; i < count; ++i) {
    values[i].nvmlReturn = values[i].fieldId == 82 ? 0 : 3;
    values[i].valueType = 1; /* NVML_VALUE_TYPE_UNSIGNED_INT */
    values[i].value.uiVal = (unsigned)GpuNumber(gpu, "memory_temp");
  }
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, int* state) {
  ENTER(device, gpu);
  *state = (int)GpuNumber(gpu, "pstate");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* mj) {
  ENTER(device, gpu);
  *mj = (unsigned long long)GpuNumber(gpu, "energy");
  return 0;
}

static nvmlReturn_t ClockEvents(nvmlDevice_t device, const char* function, unsigned long long* mask) {
  unsigned gpu = 0;
  nvmlReturn_t entered = Enter(device, function, &gpu);
  if (entered != 0) return entered;
  *mask = (unsigned long long)GpuNumber(gpu, "clock_events");
  return 0;
}

#ifndef FAKE_NVML_OLD_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long* mask) {
  return ClockEvents(device, __func__, mask);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long* mask) {
  return ClockEvents(device, __func__, mask);
}

EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, int counter, unsigned* kbps) {
  ENTER(device, gpu);
  if (counter != 0 && counter != 1) return 2;
  *kbps = (unsigned)GpuNumber(gpu, counter == 0 ? "pcie_tx" : "pcie_rx");
  return 0;
}

static nvmlReturn_t Link(unsigned gpu, unsigned link) {
  long long links = GpuNumber(gpu, "nvlinks");
  if (links == 0) return 3;              /* NOT_SUPPORTED: no NVLink */
  return link >= links ? 2 : 0;          /* INVALID_ARGUMENT past the last link */
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned link, int* active) {
  ENTER(device, gpu);
  nvmlReturn_t r = Link(gpu, link);
  if (r) return r;
  char field[48];
  snprintf(field, sizeof field, "nvlink%u.active", link);
  *active = (int)GpuNumber(gpu, field);
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkVersion(nvmlDevice_t device, unsigned link, unsigned* version) {
  ENTER(device, gpu);
  nvmlReturn_t r = Link(gpu, link);
  if (r) return r;
  *version = 4;
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned link, nvmlPciInfo_t* pci) {
  ENTER(device, gpu);
  nvmlReturn_t r = Link(gpu, link);
  if (r) return r;
  char field[48];
  snprintf(field, sizeof field, "nvlink%u.remote", link);
  const char* v = GpuString(gpu, field);
  if (!v) return 6;
  memset(pci, 0, sizeof *pci);
  Copy(pci->busId, sizeof pci->busId, v);
  return 0;
}

typedef struct {
  unsigned pid;
  unsigned long long usedGpuMemory;
  unsigned gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

/* "<pid>:<bytes>,..." into `infos`; INSUFFICIENT_SIZE (with the count) when they do not fit. */
static nvmlReturn_t Processes(unsigned gpu, const char* field, unsigned* count, nvmlProcessInfo_t* infos) {
  const char* list = GpuString(gpu, field);
  unsigned n = 0, room = *count;
  for (const char* p = list; p && *p;) {
    char* end = NULL;
    unsigned long pid = strtoul(p, &end, 10);
    unsigned long long bytes = ~0ULL;
    if (end && *end == ':') {
      if (end[1] != '-') bytes = strtoull(end + 1, &end, 10);
      else end += 2;
    }
    if (n < room && infos) infos[n] = (nvmlProcessInfo_t){(unsigned)pid, bytes, ~0u, ~0u};
    ++n;
    p = end ? strchr(end, ',') : NULL;
    if (p) ++p;
  }
  *count = n;
  return n > room ? 7 : 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned* count, nvmlProcessInfo_t* infos) {
  ENTER(device, gpu);
  return Processes(gpu, "processes", count, infos);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device, unsigned* count, nvmlProcessInfo_t* infos) {
  ENTER(device, gpu);
  return Processes(gpu, "graphics_processes", count, infos);
}

#ifndef FAKE_NVML_OLD_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned* count, nvmlProcessInfo_t* infos) {
  ENTER(device, gpu);
  return Processes(gpu, "processes", count, infos);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned* count, nvmlProcessInfo_t* infos) {
  ENTER(device, gpu);
  return Processes(gpu, "graphics_processes", count, infos);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t a, nvmlDevice_t b, int index, int* status) {
  ENTER(a, gpu);
  unsigned other = 0;
  nvmlReturn_t r = Enter(b, __func__, &other);
  if (r) return r;
  char field[48];
  snprintf(field, sizeof field, "nvlink_p2p%u", other);
  *status = index == 2 && GpuNumber(gpu, field) ? 0 : 5; /* OK : NOT_SUPPORTED */
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t a, nvmlDevice_t b, int* level) {
  ENTER(a, gpu);
  unsigned other = 0;
  nvmlReturn_t r = Enter(b, __func__, &other);
  if (r) return r;
  char field[48];
  snprintf(field, sizeof field, "topology%u", other);
  const char* v = GpuString(gpu, field);
  *level = v ? atoi(v) : 50;
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned* temp) {
  ENTER(device, gpu);
  if (sensor != 0) return 2;
  *temp = (unsigned)GpuNumber(gpu, "temperature");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetGpuFabricInfo(nvmlDevice_t device, nvmlGpuFabricInfo_t* info) {
  ENTER(device, gpu);
  memset(info, 0, sizeof *info);
  info->state = (unsigned char)GpuNumber(gpu, "fabric_state");
  info->status = (nvmlReturn_t)GpuNumber(gpu, "fabric_status");
  return 0;
}
