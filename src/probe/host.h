// hardware layer, the host itself: OS, kernel, virtualisation, CPU, memory, disks, /dev/shm.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct OsRelease {
  std::string id;           ///< "ubuntu"
  std::string version_id;   ///< "24.04"
  std::string pretty_name;  ///< "Ubuntu 24.04.3 LTS"
};

struct CpuInfo {
  std::string model;
  int sockets = 0;
  int cores = 0;    ///< physical cores, all sockets
  int threads = 0;  ///< logical CPUs
};

struct MemInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

struct Mount {
  std::string mount_point;
  std::string fs_type;
  std::string source;
  std::string options;
  Result<uint64_t> size_bytes = 0;  ///< statvfs on this machine; tmpfs size= in a capture
  Result<uint64_t> free_bytes = 0;
};

/// What the machine runs on. Each flag comes with the evidence that set it.
struct Virtualization {
  bool wsl = false;
  bool container = false;
  bool vm = false;
  std::string container_kind;  ///< "docker", "podman", "kubernetes", "lxc", ...
  std::string vm_kind;         ///< "kvm", "firecracker", "hyper-v", ... ("" when unnamed)
  std::vector<std::string> evidence;
};

struct HostFacts {
  Result<OsRelease> os = Fail(ErrorKind::kNotFound, "not probed");
  Result<std::string> kernel = Fail(ErrorKind::kNotFound, "not probed");  ///< "6.8.0-45-generic"
  Result<std::string> kernel_cmdline = Fail(ErrorKind::kNotFound, "not probed");
  /// "x86_64", "aarch64": uname on this machine, a capture's uname.txt otherwise.
  Result<std::string> machine = Fail(ErrorKind::kNotFound, "not probed");
  Virtualization virt;
  Result<CpuInfo> cpu = Fail(ErrorKind::kNotFound, "not probed");
  Result<MemInfo> memory = Fail(ErrorKind::kNotFound, "not probed");
  Result<std::vector<Mount>> disks = Fail(ErrorKind::kNotFound, "not probed");  ///< real filesystems
  Result<Mount> dev_shm = Fail(ErrorKind::kNotFound, "not probed");
};

HostFacts ProbeHost(const ProbeContext& ctx);
/// The machine architecture named in `uname -a` output (or dlrig's uname.txt); nullopt if none.
std::optional<std::string> MachineFromUname(std::string_view text);

// Pure parsers, exposed for tests and fuzzers.
OsRelease ParseOsRelease(std::string_view text);
Result<CpuInfo> ParseCpuInfo(std::string_view text);
Result<MemInfo> ParseMemInfo(std::string_view text);
/// /proc/self/mountinfo; later mounts of the same point hide earlier ones.
std::vector<Mount> ParseMountInfo(std::string_view text);
/// "size=131981020k" style tmpfs option in bytes.
std::optional<uint64_t> TmpfsSizeOption(std::string_view options);

}  // namespace dlrig
