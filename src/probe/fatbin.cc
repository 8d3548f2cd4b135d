#include "probe/fatbin.h"

#include <fmt/format.h>

#include <algorithm>

namespace dlrig {
namespace {

// Layout (NVIDIA ships no specification; the container header matches fatbinary.h of old
// toolkits and the entry fields were checked here against nvcc 13.0 output for sm_80, sm_90,
// sm_90a, sm_100a, sm_100f, sm_120, compute_90/90a/100f/120 and lto_80, and against
// libcublasLt.so.13: 2782 containers, 5737 entries):
//   container: u32 magic 0xBA55ED50, u16 version, u16 header size, u64 size of what follows
//   entry:     u16 kind (1 PTX, 2 ELF cubin, 8 LTO IR), u16, u32 header size,
//              u64 payload size (payload follows the header, padded), ..., u32 arch at 28
//              (major * 10 + minor), u64 flags at 40 (0x100000 'a', 0x200000 'f')
constexpr uint32_t kMagic = 0xBA55ED50;
constexpr size_t kContainerBytes = 16, kEntryBytes = 48;
constexpr uint32_t kMaxEntryHeader = 4096;
constexpr uint64_t kMaxSteps = 1u << 22;  // containers + entries + padding chunks per file
constexpr uint16_t kKindPtx = 1, kKindElf = 2;
constexpr uint64_t kFlagArchSpecific = 0x100000, kFlagFamilySpecific = 0x200000;
// major * 10 + minor: sm_10 (the first CUDA GPUs) up to a two-digit major (sm_121 in 2025).
constexpr uint32_t kMinArch = 10, kMaxArch = 999;

uint64_t Le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

class Walker {
 public:
  Walker(const ElfSource& src, FatbinScan& out) : src_(src), out_(out) {}

  // Walks the containers in [begin, end) of the source.
  Result<void> Section(uint64_t begin, uint64_t end) {
    uint64_t pos = begin;
    while (pos < end) {
      if (auto ok = Step(); !ok) return ok;
      unsigned char h[kContainerBytes] = {};
      bool fits = end - pos >= kContainerBytes;
      if (fits) {
        if (auto ok = Read(pos, h, sizeof h); !ok) return ok;
      }
      if (!fits || Le(h, 4) != kMagic) {
        auto next = SkipPadding(pos, end);
        if (!next) return tl::unexpected(next.error());
        pos = *next;
        continue;
      }
      uint64_t header = Le(h + 6, 2), size = Le(h + 8, 8);
      if (header < kContainerBytes || header > end - pos || size > end - pos - header)
        return Fail(ErrorKind::kMalformed,
                    fmt::format("fatbin container at offset {} runs past its section", pos));
      if (auto ok = Entries(pos + header, pos + header + size); !ok) return ok;
      ++out_.containers;
      pos += header + size;
    }
    return {};
  }

 private:
  Result<void> Entries(uint64_t pos, uint64_t end) {
    while (pos < end) {
      if (auto ok = Step(); !ok) return ok;
      unsigned char e[kEntryBytes];
      if (end - pos < kEntryBytes) return Truncated(pos);
      if (auto ok = Read(pos, e, sizeof e); !ok) return ok;
      uint64_t header = Le(e + 4, 4), payload = Le(e + 8, 8);
      if (header < kEntryBytes || header > kMaxEntryHeader || header > end - pos ||
          payload > end - pos - header)
        return Truncated(pos);
      if (auto ok = Record(pos, static_cast<uint16_t>(Le(e, 2)),
                           static_cast<uint32_t>(Le(e + 28, 4)), Le(e + 40, 8));
          !ok)
        return ok;
      pos += header + payload;
    }
    return {};
  }

  Result<void> Record(uint64_t pos, uint16_t kind, uint32_t arch, uint64_t flags) {
    ++out_.entries;
    if (kind != kKindPtx && kind != kKindElf) {
      ++out_.other_entries;
      return {};
    }
    // A garbled entry must not become "sm_795177825a": the targets say what runs where, so
    // one that names no possible architecture makes the whole scan unknown.
    if (arch < kMinArch || arch > kMaxArch)
      return Fail(ErrorKind::kMalformed,
                  fmt::format("fatbin entry at offset {} names architecture {}, not a compute "
                              "capability (garbled)",
                              pos, arch));
    GpuCodeTarget t;
    t.kind = kind == kKindPtx ? GpuCodeTarget::Kind::kPtx : GpuCodeTarget::Kind::kSass;
    t.major = static_cast<int>(arch / 10);
    t.minor = static_cast<int>(arch % 10);
    t.variant = (flags & kFlagArchSpecific) ? 'a' : (flags & kFlagFamilySpecific) ? 'f' : 0;
    auto& list = kind == kKindPtx ? out_.ptx : out_.sass;
    if (std::find(list.begin(), list.end(), t) == list.end()) list.push_back(t);
    return {};
  }

  // Zero bytes between containers (section alignment): returns where the next one starts.
  // Anything else where a container should begin means the section is not a fatbin.
  Result<uint64_t> SkipPadding(uint64_t pos, uint64_t end) {
    const uint64_t start = pos;
    unsigned char chunk[4096];
    while (pos < end) {
      if (auto ok = Step(); !ok) return tl::unexpected(ok.error());
      size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, end - pos));
      if (auto ok = Read(pos, chunk, n); !ok) return tl::unexpected(ok.error());
      size_t zeros = 0;
      while (zeros < n && chunk[zeros] == 0) ++zeros;
      if (zeros < n && n - zeros < 4 && pos + n < end && zeros > 0) {
        pos += zeros;  // the next word straddles this chunk's end: read it whole
        continue;
      }
      if (zeros < n) {
        if (pos + zeros == start || n - zeros < 4 || Le(chunk + zeros, 4) != kMagic)
          return Fail(ErrorKind::kMalformed,
                      fmt::format("no fatbin container at offset {} (garbled section)", pos + zeros));
        return pos + zeros;
      }
      pos += n;
    }
    return end;
  }

  Result<void> Read(uint64_t offset, void* out, size_t n) const {
    if (offset > src_.size_bytes || n > src_.size_bytes - offset)
      return Fail(ErrorKind::kMalformed, fmt::format("offset {} + {} beyond the file", offset, n));
    return src_.read(offset, out, n);
  }
  Result<void> Step() {
    if (++steps_ > kMaxSteps) return Fail(ErrorKind::kTooLarge, "more than 4M fatbin entries");
    return {};
  }
  static Result<void> Truncated(uint64_t pos) {
    return Fail(ErrorKind::kMalformed,
                fmt::format("fatbin entry at offset {} is truncated or garbled", pos));
  }

  const ElfSource& src_;
  FatbinScan& out_;
  uint64_t steps_ = 0;
};

void Finish(FatbinScan& scan) {
  std::sort(scan.sass.begin(), scan.sass.end());
  std::sort(scan.ptx.begin(), scan.ptx.end());
}

}  // namespace

std::string GpuCodeTarget::Name() const {
  std::string out = fmt::format("{}_{}{}", kind == Kind::kSass ? "sm" : "compute", major, minor);
  if (variant != 0) out.push_back(variant);
  return out;
}

Result<FatbinScan> ScanFatbin(const ElfSource& source) {
  auto sections = ReadElfSections(source);
  if (!sections) return tl::unexpected(sections.error());
  FatbinScan scan;
  Walker walker(source, scan);
  for (const ElfSection& s : *sections) {
    if (s.name != ".nv_fatbin" && s.name != "__nv_relfatbin") continue;
    scan.has_fatbin_section = true;
    if (s.offset > source.size_bytes || s.size_bytes > source.size_bytes - s.offset)
      return Fail(ErrorKind::kMalformed, s.name + " lies outside the file");
    if (auto ok = walker.Section(s.offset, s.offset + s.size_bytes); !ok)
      return Fail(ok.error().kind, s.name + ": " + ok.error().message);
  }
  Finish(scan);
  return scan;
}

Result<FatbinScan> ScanFatbinBytes(std::string_view elf_bytes) {
  return ScanFatbin(ElfBytesSource(elf_bytes));
}

Result<void> ScanFatbinSectionBytes(std::string_view section, FatbinScan& out) {
  ElfSource src = ElfBytesSource(section);
  auto ok = Walker(src, out).Section(0, section.size());
  Finish(out);
  return ok;
}

Result<FatbinScan> ReadFatbin(const Root& root, std::string_view path) {
  auto file = root.OpenFile(path);
  if (!file) return tl::unexpected(file.error());
  auto scan = ScanFatbin(ElfFileSource(*file));
  if (!scan) return Fail(scan.error().kind, std::string(path) + ": " + scan.error().message);
  return scan;
}

// CUDA C++ Programming Guide, "Binary Compatibility": a cubin generated for compute
// capability X.y only executes on devices of compute capability X.z where z >= y (not across
// major revisions; not on Tegra, which dlrig does not model). "PTX Compatibility": PTX for a
// compute capability can always be compiled to binary code of greater or equal compute
// capability. "Feature Set Compiler Targets" (CUDA 12.9+): 'a' (architecture-specific) code,
// SASS or PTX, runs only on exactly that compute capability; 'f' (family-specific) code runs
// on the same major with equal or higher minor (compute_100f: CC 10.0 and 10.3). See also
// https://developer.nvidia.com/blog/nvidia-blackwell-and-nvidia-cuda-12-9-introduce-family-specific-architecture-features/
bool TargetRunsOn(const GpuCodeTarget& t, ComputeCapability cc) {
  if (t.variant == 'a') return t.major == cc.major && t.minor == cc.minor;
  bool same_major = t.major == cc.major && t.minor <= cc.minor;
  if (t.kind == GpuCodeTarget::Kind::kSass || t.variant == 'f') return same_major;
  // In 64 bits: the caller's numbers may come from a device or a file (no signed overflow).
  auto rank = [](int major, int minor) { return int64_t{major} * 10 + minor; };
  return rank(t.major, t.minor) <= rank(cc.major, cc.minor);
}

KernelImageChoice PickKernelImage(const FatbinScan& scan, ComputeCapability cc) {
  KernelImageChoice out;
  // Lists are sorted ascending: the last compatible one is the closest to the device.
  for (const GpuCodeTarget& t : scan.sass)
    if (TargetRunsOn(t, cc)) out = {KernelImageChoice::How::kSass, t};
  if (out.how == KernelImageChoice::How::kSass) return out;
  for (const GpuCodeTarget& t : scan.ptx)
    if (TargetRunsOn(t, cc)) out = {KernelImageChoice::How::kPtxJit, t};
  return out;
}

std::string TargetNames(const FatbinScan& scan) {
  std::string names;
  for (const auto* list : {&scan.sass, &scan.ptx})
    for (const auto& t : *list) {
      if (!names.empty()) names += ' ';
      names += t.Name();
    }
  return names.empty() ? "none" : names;
}

}  // namespace dlrig
