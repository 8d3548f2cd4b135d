// user-space driver layer, asked live: libnvidia-ml and libcuda are dlopen'ed in a forked
// child under a deadline (a wedged GPU must not hang dlrig). The child writes a line protocol
// to a pipe; the parent parses it. Return codes and error strings are kept verbatim.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dlrig {

/// One driver call as the child made it.
struct DriverCall {
  std::string function;     ///< the symbol actually called ("nvmlInit_v2")
  std::optional<int> code;  ///< nvmlReturn_t / CUresult; nullopt: missing symbol or no answer
  std::string name;         ///< "CUDA_ERROR_NO_DEVICE" (libcuda only), "" otherwise
  std::string message;      ///< nvmlErrorString / cuGetErrorString, dlerror(), or why none
};

/// nvmlComputeMode_t (nvml.h): who may create CUDA contexts on a GPU.
enum class ComputeMode { kDefault = 0, kExclusiveThread = 1, kProhibited = 2, kExclusiveProcess = 3 };
/// nvidia-smi's words: "Default", "Exclusive_Thread", "Prohibited", "Exclusive_Process".
const char* ComputeModeName(ComputeMode mode);

/// One NVLink link of a GPU.
struct NvLink {
  int link = 0;
  bool active = false;
  Result<std::string> remote_bus_id = Fail(ErrorKind::kNotFound, "not asked");  ///< the peer
  Result<long long> version = Fail(ErrorKind::kNotFound, "not asked");
};

/// A process with memory on a GPU. pid/memory come from NVML; user, command and container
/// are read from /proc by whoever shows them (the child does not read /proc).
struct GpuProcess {
  long long pid = 0;
  bool graphics = false;  ///< from the graphics list rather than the compute list
  Result<long long> used_memory_bytes = Fail(ErrorKind::kNotFound, "not asked");
  std::string user;       ///< "" when unknown
  std::string command;    ///< /proc/<pid>/cmdline, "" when unknown
  std::string container;  ///< container id from /proc/<pid>/cgroup, "" when none
};

/// nvmlGpuTopologyLevel_t: how the PCIe path between two GPUs runs.
enum class TopologyLevel {
  kInternal = 0,     ///< same board (multi-GPU board)
  kSingle = 10,      ///< one PCIe switch (nvidia-smi PIX)
  kMultiple = 20,    ///< several PCIe switches, no host bridge (PXB)
  kHostBridge = 30,  ///< the same host bridge (PHB)
  kNode = 40,        ///< the same NUMA node, across host bridges (NODE)
  kSystem = 50,      ///< across NUMA nodes / sockets (SYS)
};
/// nvidia-smi topo -m's word: "PIX", "PXB", "PHB", "NODE", "SYS", "X" for internal.
const char* TopologyName(TopologyLevel level);

/// One GPU as NVML describes it (nvmlDeviceGetHandleByIndex order). Every value is a Result:
/// a call the GPU does not support (NVML_ERROR_NOT_SUPPORTED) is kUnsupported, never 0.
struct GpuFacts {
  int index = 0;
  /// nvmlDeviceGetHandleByIndex's code when it failed (15: GPU is lost); every value then
  /// carries that error.
  std::optional<int> handle_code;
  Result<std::string> name = Fail(ErrorKind::kNotFound, "not asked");
  Result<std::string> uuid = Fail(ErrorKind::kNotFound, "not asked");
  Result<std::string> pci_bus_id = Fail(ErrorKind::kNotFound, "not asked");  ///< "00000000:01:00.0"
  Result<std::string> compute_capability = Fail(ErrorKind::kNotFound, "not asked");  ///< "9.0"
  Result<long long> memory_total_bytes = Fail(ErrorKind::kNotFound, "not asked");
  /// Allocated memory as nvidia-smi shows it (nvmlMemory_v2_t); reserved + allocated on a
  /// driver without nvmlDeviceGetMemoryInfo_v2.
  Result<long long> memory_used_bytes = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> ecc_enabled = Fail(ErrorKind::kNotFound, "not asked");          ///< current
  Result<bool> ecc_pending_enabled = Fail(ErrorKind::kNotFound, "not asked");  ///< after reboot
  /// Uncorrected ECC errors since the driver loaded / over the GPU's life.
  Result<long long> ecc_uncorrected_volatile = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> ecc_uncorrected_aggregate = Fail(ErrorKind::kNotFound, "not asked");
  /// Pages retired for multiple single-bit / a double-bit error (pre-Ampere page retirement).
  Result<long long> retired_pages_sbe = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> retired_pages_dbe = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> retired_pages_pending = Fail(ErrorKind::kNotFound, "not asked");
  /// Row remapping (Ampere+): rows remapped for correctable / uncorrectable errors, a remap
  /// waiting for a GPU reset, a remap that ever failed.
  Result<long long> remapped_rows_correctable = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> remapped_rows_uncorrectable = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> remap_pending = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> remap_failed = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> mig_enabled = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> mig_pending_enabled = Fail(ErrorKind::kNotFound, "not asked");
  /// MIG devices that exist (handles found up to nvmlDeviceGetMaxMigDeviceCount); only asked
  /// when MIG is enabled.
  Result<long long> mig_devices = Fail(ErrorKind::kNotFound, "not asked");
  Result<ComputeMode> compute_mode = Fail(ErrorKind::kNotFound, "not asked");
  Result<bool> persistence_mode = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> pcie_gen_now = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> pcie_gen_max = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> pcie_width_now = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> pcie_width_max = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> temperature_c = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> power_mw = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> power_limit_mw = Fail(ErrorKind::kNotFound, "not asked");  ///< enforced
  /// nvmlDeviceGetGpuFabricInfo (NVSwitch systems): NVML_GPU_FABRIC_STATE_* (0 not supported,
  /// 1 not started, 2 in progress, 3 completed) and the registration's nvmlReturn_t.
  Result<long long> fabric_state = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> fabric_status = Fail(ErrorKind::kNotFound, "not asked");

  // Identity and fixed facts.
  Result<std::string> serial = Fail(ErrorKind::kNotFound, "not asked");  ///< board serial
  /// PCI device and vendor id as NVML packs them (0x233010DE: device 0x2330, vendor 0x10de).
  Result<long long> pci_device_id = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> memory_free_bytes = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> memory_bus_width_bits = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> power_default_limit_mw = Fail(ErrorKind::kNotFound, "not asked");
  /// nvmlDeviceGetTemperatureThreshold: where the GPU slows down / shuts down; the highest
  /// operating temperature of the GPU and of its memory.
  Result<long long> temperature_slowdown_c = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> temperature_shutdown_c = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> temperature_gpu_max_c = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> temperature_memory_max_c = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> clock_sm_max_mhz = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> clock_memory_max_mhz = Fail(ErrorKind::kNotFound, "not asked");

  // Live values (what a sampler asks every tick).
  Result<long long> clock_sm_mhz = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> clock_memory_mhz = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> clock_graphics_mhz = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> utilization_gpu_percent = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> utilization_memory_percent = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> memory_temperature_c = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> fan_percent = Fail(ErrorKind::kNotFound, "not asked");  ///< fan 0
  Result<long long> performance_state = Fail(ErrorKind::kNotFound, "not asked");  ///< P0..P15
  /// Energy since the driver loaded, millijoules (Volta+): a counter.
  Result<long long> energy_mj = Fail(ErrorKind::kNotFound, "not asked");
  /// PCIe throughput over NVML's 20 ms window, KB/s (transmitted / received by the GPU).
  Result<long long> pcie_tx_kbps = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> pcie_rx_kbps = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> pcie_replay_count = Fail(ErrorKind::kNotFound, "not asked");  ///< a counter
  Result<long long> ecc_corrected_volatile = Fail(ErrorKind::kNotFound, "not asked");
  Result<long long> ecc_corrected_aggregate = Fail(ErrorKind::kNotFound, "not asked");
  /// nvmlClocksEventReasons bit mask (why clocks are below their maximum); ClockEventNames
  /// decodes it.
  Result<long long> clock_event_reasons = Fail(ErrorKind::kNotFound, "not asked");
  /// Every NVLink link the GPU has (nvmlDeviceGetNvLinkState over NVML_NVLINK_MAX_LINKS);
  /// kUnsupported on a GPU without NVLink.
  Result<std::vector<NvLink>> nvlinks = Fail(ErrorKind::kNotFound, "not asked");
  /// Compute and graphics processes with memory on this GPU.
  Result<std::vector<GpuProcess>> processes = Fail(ErrorKind::kNotFound, "not asked");
  /// nvmlDeviceGetTopologyCommonAncestor to every other GPU (by index), for `topo -m`.
  std::map<int, Result<TopologyLevel>> topology;
  /// nvmlDeviceGetP2PStatus(NVLINK) to every other GPU: true when they reach each other over
  /// NVLink, directly or through NVSwitches.
  std::map<int, Result<bool>> nvlink_p2p;
};

/// The decoded names of a clock-event-reasons mask ("sw_power_cap", "hw_thermal_slowdown"...),
/// in bit order; unknown bits as "0x..".
std::vector<std::string> ClockEventNames(long long mask);
/// The reasons that mean the GPU is being held back (power, thermal, hardware slowdown), as
/// opposed to idle or a clock setting.
bool ClockEventIsThrottle(long long mask);

/// At most this many GPUs are asked about (NVML's index order); more are not described.
inline constexpr int kMaxQueriedGpus = 64;

/// What one library said. Values are unavailable with the failing call's code and text.
struct LibraryAnswers {
  std::string requested;  ///< what was handed to dlopen ("libnvidia-ml.so.1" or a path)
  /// The file actually loaded (dlinfo); on failure the dlerror() text verbatim.
  Result<std::string> loaded_path = Fail(ErrorKind::kNotFound, "not asked");
  std::vector<DriverCall> calls;
  Result<std::string> driver_version = Fail(ErrorKind::kNotFound, "not asked");  ///< "580.159.04"
  Result<std::string> nvml_version = Fail(ErrorKind::kNotFound, "not asked");    ///< NVML only
  /// CUDA's integer encoding (13000 = 13.0): what the driver supports.
  Result<int> cuda_driver_version = Fail(ErrorKind::kNotFound, "not asked");
  Result<int> device_count = Fail(ErrorKind::kNotFound, "not asked");
  std::vector<GpuFacts> devices;  ///< NVML only: one per GPU index below kMaxQueriedGpus
};

struct DriverQuery {
  LibraryAnswers nvml;
  LibraryAnswers cuda;
};

struct DriverQueryOptions {
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string cuda_library = "libcuda.so.1";
  std::chrono::milliseconds deadline{5000};  ///< for the whole query, both libraries
  /// What else is asked per GPU beyond identity, health and the cheap live values (doctor
  /// needs none of it): processes, NVLink links, topology between GPUs, and PCIe throughput
  /// (which NVML measures over a 20 ms window per GPU).
  bool processes = false;
  bool nvlinks = false;
  bool topology = false;
  bool pcie_throughput = false;
  /// The counters that are dear to read and slow to change: energy (about 4 ms of CPU per GPU
  /// on an H200), PCIe replays, ECC, retired pages and row remapping, NVLink state. A sampler
  /// asks them on every tenth pass only; a one-shot query always.
  bool slow_counters = true;
};

/// How the child ended, for ParseDriverQuery.
struct ChildEnd {
  bool timed_out = false;
  int signal = 0;     ///< killed by this signal (other than our own kill after a timeout)
  int exit_code = 0;
  std::chrono::milliseconds deadline{0};
};

/// Why NVML could describe no GPU, in one line ("cannot load NVML: ...", "nvmlInit_v2
/// returned 18 (...)"), or "" when it answered.
std::string NvmlUnavailableReason(const LibraryAnswers& nvml);

/// Forks, queries both libraries in the child, and always returns (never hangs past the
/// deadline plus a kill). Touches the real machine: callers check ProbeContext::load_libraries.
DriverQuery QueryDriver(const DriverQueryOptions& options);

/// The same query started now and collected later, so driver initialisation (nvmlInit and
/// cuInit each take 100+ ms on an H100) overlaps the file probes and each other: one child per
/// library. The deadline counts from Start. Destroying an unfinished query kills and reaps the
/// children.
class PendingDriverQuery {
 public:
  static PendingDriverQuery Start(const DriverQueryOptions& options);
  PendingDriverQuery(PendingDriverQuery&& other) noexcept;
  PendingDriverQuery(const PendingDriverQuery&) = delete;
  ~PendingDriverQuery();
  /// Waits (at most until the deadline) and parses the answers; call once.
  DriverQuery Finish();

 private:
  struct Child {
    int pid = -1;  ///< -1: fork failed or already finished
    int fd = -1;
  };
  PendingDriverQuery(DriverQueryOptions options, std::chrono::steady_clock::time_point started)
      : options_(std::move(options)), started_(started) {}
  static Child Spawn(const DriverQueryOptions& options);
  /// Reads one child until EOF or the deadline, then reaps it.
  std::string Collect(Child& child, ChildEnd& end);
  DriverQueryOptions options_;
  Child children_[2];  ///< NVML, libcuda
  std::chrono::steady_clock::time_point started_;
};

/// Parses the child's protocol (lines "<nvml|cuda> <key> <value>"; per-GPU lines
/// "nvml dev <index> <field> <status> <value or call and message>"). Pure: tests and fuzzer.
DriverQuery ParseDriverQuery(std::string_view text, const DriverQueryOptions& options,
                             const ChildEnd& end);

}  // namespace dlrig
