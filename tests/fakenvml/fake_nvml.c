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
 *   gpu<i>.fail.<function>=<code>  that call returns <code> for GPU i (3: NOT_SUPPORTED)
 *   gpu<i>.hang.<function>=1       that call never returns
 *
 * Unset numbers are 0 and unset strings are made from the index. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void Load(void) {
  if (entries >= 0) return;
  entries = 0;
  const char* path = getenv("DLRIG_FAKE_NVML");
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

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
  ENTER(device, gpu);
  if (memory->version != (unsigned)(sizeof(nvmlMemory_v2_t) | (2u << 24))) return 25; /* ARGUMENT_VERSION_MISMATCH */
  memory->total = (unsigned long long)GpuNumber(gpu, "memory_total");
  memory->reserved = (unsigned long long)GpuNumber(gpu, "memory_reserved");
  memory->used = (unsigned long long)GpuNumber(gpu, "memory_used");
  memory->free = memory->total - memory->used - memory->reserved;
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, int* current, int* pending) {
  ENTER(device, gpu);
  *current = (int)GpuNumber(gpu, "ecc_mode");
  *pending = (int)GpuNumber(gpu, "ecc_pending");
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int error_type, int counter,
                                                unsigned long long* count) {
  ENTER(device, gpu);
  if (error_type != 1) return 2; /* only UNCORRECTED is faked */
  *count = (unsigned long long)GpuNumber(
      gpu, counter == 0 ? "ecc_volatile_uncorrected" : "ecc_aggregate_uncorrected");
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
