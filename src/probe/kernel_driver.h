// kernel driver layer: nvidia.ko (open or proprietary) and its version, loaded modules,
// nouveau, a module for the running kernel, DKMS, Secure Boot, /dev/nvidia* and the GPUs the
// driver sees. Facts only.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

/// /proc/driver/nvidia/version.
struct NvidiaProcVersion {
  std::string version;      ///< "580.159.04"
  bool open_module = false;  ///< "Open Kernel Module" (else the proprietary "Kernel Module")
  std::string gcc;          ///< "gcc version 15.3.0 (GCC)", "" when absent
  std::string first_line;   ///< verbatim
};

/// One line of /proc/modules.
struct LoadedModule {
  std::string name;  ///< "nvidia_uvm"
  uint64_t size_bytes = 0;
  std::string state;    ///< "Live", "Loading", "Unloading"
  std::string used_by;  ///< "-" or "nvidia_modeset,nvidia_drm,"
};

/// A character device or directory under /dev named nvidia*.
struct DeviceNode {
  std::string path;   ///< "/dev/nvidia0", "/dev/nvidia-caps/nvidia-cap1"
  char type = '?';    ///< 'c' character device, 'd' directory, 'l' link, '-' file
  uint32_t mode = 0;  ///< permission bits (0666)
  std::string owner, group;
  int major = -1, minor = -1;  ///< -1 for non-devices
};

/// /var/lib/dkms/<module>/<version>/<kernel>/<arch>.
struct DkmsBuild {
  std::string module, version, kernel, arch;
  bool installed = false;  ///< /var/lib/dkms/<module>/kernel-<kernel>-<arch> exists
};

/// What keeps nouveau away: modprobe.d and the kernel command line.
struct NouveauConfig {
  bool blacklisted = false;  ///< "blacklist nouveau" or modprobe.blacklist=nouveau
  bool modeset_off = false;  ///< "options nouveau modeset=0" or nouveau.modeset=0
  std::vector<std::string> evidence;  ///< "/etc/modprobe.d/x.conf: blacklist nouveau"
};

enum class SecureBoot { kDisabled, kEnabled, kNoEfi };

/// /proc/driver/nvidia/gpus/<bdf>/information.
struct DriverGpu {
  std::string bus_id;  ///< "0000:00:06.0"
  std::string model;   ///< "NVIDIA H100 80GB HBM3"
  std::string uuid;    ///< "GPU-…"
  std::vector<std::pair<std::string, std::string>> fields;  ///< every "Key: value" verbatim
};

struct KernelDriverFacts {
  Result<NvidiaProcVersion> proc_version = Fail(ErrorKind::kNotFound, "not probed");
  Result<std::string> module_version = Fail(ErrorKind::kNotFound, "not probed");  ///< /sys/module
  /// nvidia, nvidia_uvm, nvidia_drm, nvidia_modeset, nvidia_peermem, nouveau when loaded.
  Result<std::vector<LoadedModule>> loaded = Fail(ErrorKind::kNotFound, "not probed");
  NouveauConfig nouveau;
  Result<std::string> running_kernel = Fail(ErrorKind::kNotFound, "not probed");
  /// nvidia*.ko(.xz|.zst) under /lib/modules/<running kernel>.
  Result<std::vector<std::string>> module_files = Fail(ErrorKind::kNotFound, "not probed");
  Result<std::vector<DkmsBuild>> dkms = Fail(ErrorKind::kNotFound, "not probed");
  Result<SecureBoot> secure_boot = Fail(ErrorKind::kNotFound, "not probed");
  std::string secure_boot_source;  ///< the file that told
  Result<std::vector<DeviceNode>> devices = Fail(ErrorKind::kNotFound, "not probed");
  std::string devices_source;  ///< "/dev" or "dev.listing"
  Result<std::vector<DriverGpu>> gpus = Fail(ErrorKind::kNotFound, "not probed");
};

KernelDriverFacts ProbeKernelDriver(const ProbeContext& ctx);

// Pure parsers, exposed for tests and fuzzers.
Result<NvidiaProcVersion> ParseNvidiaProcVersion(std::string_view text);
/// Only the modules named above are kept.
std::vector<LoadedModule> ParseProcModules(std::string_view text);
/// `ls -l` output of /dev/nvidia* (a capture's dev.listing): names starting with "nvidia".
std::vector<DeviceNode> ParseDevListing(std::string_view text);
/// Adds what one modprobe.d file says about nouveau to `config`.
void ParseModprobeConf(std::string_view text, std::string_view file, NouveauConfig& config);
/// The efivar SecureBoot-… bytes: 4 attribute bytes, then the value byte.
Result<SecureBoot> ParseSecureBootVar(std::string_view bytes);
DriverGpu ParseGpuInformation(std::string_view bus_id, std::string_view text);
/// "crw-rw-rw-" → 0666 (with set-id and sticky bits).
uint32_t ParseModeString(std::string_view perms);

}  // namespace dlrig
