// The GPU code a CUDA library carries: the SASS (cubin) and PTX targets listed in the fatbin
// containers of its .nv_fatbin / __nv_relfatbin sections. Reads entry headers only, never
// payloads, so a 456 MB libtorch_cuda.so (torch 2.11 cu130) costs one small read per entry. Predicts "no kernel
// image is available for execution on the device" before anything is loaded.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/root.h"
#include "probe/elf.h"

namespace dlrig {

/// One code target of a fatbin: "sm_90a" (SASS) or "compute_90" (PTX).
struct GpuCodeTarget {
  enum class Kind { kSass, kPtx };
  Kind kind = Kind::kSass;
  int major = 0;
  int minor = 0;
  char variant = 0;  ///< 0, 'a' (architecture-specific) or 'f' (family-specific)
  /// "sm_90a", "compute_100f".
  std::string Name() const;
  auto operator<=>(const GpuCodeTarget&) const = default;
};

struct FatbinScan;
/// "sm_80 sm_90 compute_90": the SASS then the PTX targets of a scan; "none" when empty.
std::string TargetNames(const FatbinScan& scan);

struct FatbinScan {
  std::vector<GpuCodeTarget> sass;  ///< sorted, unique
  std::vector<GpuCodeTarget> ptx;   ///< sorted, unique
  uint64_t containers = 0;          ///< fatbin containers walked
  uint64_t entries = 0;             ///< entries of every kind
  uint64_t other_entries = 0;       ///< neither SASS nor PTX (LTO IR, ...)
  bool has_fatbin_section = false;  ///< a .nv_fatbin or __nv_relfatbin section exists
};

/// Scans the fatbin sections of an ELF image. A file without them gives an empty scan;
/// a truncated or garbled container is kMalformed with its offset.
Result<FatbinScan> ScanFatbin(const ElfSource& source);
/// ScanFatbin over an ELF image in memory (tests, fuzzer).
Result<FatbinScan> ScanFatbinBytes(std::string_view elf_bytes);
/// Walks the containers of one fatbin section's bytes (no ELF around them) into `out`.
Result<void> ScanFatbinSectionBytes(std::string_view section, FatbinScan& out);
/// Opens `path` through the root and scans it.
Result<FatbinScan> ReadFatbin(const Root& root, std::string_view path);

struct ComputeCapability {
  int major = 0;
  int minor = 0;
};

/// How a GPU would get code for a library's kernels.
struct KernelImageChoice {
  enum class How { kSass, kPtxJit, kNone };
  How how = How::kNone;
  std::optional<GpuCodeTarget> target;  ///< the SASS or PTX used; none for kNone
};

/// Picks what the CUDA driver would run on a GPU of compute capability `cc`: SASS when one
/// is binary compatible (preferred, as the runtime does), else PTX it can JIT-compile, else
/// kNone ("no kernel image is available for execution on the device").
KernelImageChoice PickKernelImage(const FatbinScan& scan, ComputeCapability cc);
/// Whether one target can run on `cc` (SASS as is, PTX through the JIT).
bool TargetRunsOn(const GpuCodeTarget& target, ComputeCapability cc);

}  // namespace dlrig
