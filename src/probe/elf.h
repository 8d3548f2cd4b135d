// A small, bounds-checked ELF reader: just what the dynamic loader looks at (machine, SONAME,
// NEEDED, RPATH, RUNPATH, version needs). Reads through ReadAt, never the whole file, so a
// 1 GB library costs a few kilobytes. ELF64 little-endian only; anything else is reported.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/root.h"

namespace dlrig {

struct ElfInfo {
  uint16_t machine = 0;              ///< e_machine (62 = x86-64, 183 = AArch64)
  std::string soname;                ///< DT_SONAME, "" when absent
  std::vector<std::string> needed;   ///< DT_NEEDED in order
  std::vector<std::string> rpath;    ///< DT_RPATH split on ':'
  std::vector<std::string> runpath;  ///< DT_RUNPATH split on ':'
  bool has_runpath = false;          ///< a DT_RUNPATH entry exists (even empty): RPATH ignored
};

/// Random access to the bytes of one file: `read(offset, out, n)` fills exactly n bytes.
struct ElfSource {
  uint64_t size_bytes = 0;
  std::function<Result<void>(uint64_t offset, void* out, size_t n)> read;
};

/// One section header (ELF64), with its name from .shstrtab.
struct ElfSection {
  std::string name;  ///< ".dynsym", ".nv_fatbin", ...; "" when .shstrtab is unreadable
  uint32_t type = 0;
  uint64_t offset = 0;     ///< file offset of the contents
  uint64_t size_bytes = 0;
  uint32_t link = 0;       ///< sh_link: the related section's index
  uint32_t info = 0;
};

/// Checks the ELF identity and reads the section headers (one read for the table, one for
/// the names; at most 4096 sections). kUnsupported for ELF32 or big-endian images, an
/// empty list when the file has no section headers (e.g. sstrip-ped).
Result<std::vector<ElfSection>> ReadElfSections(const ElfSource& source);
/// The contents of one section in a single read; kTooLarge beyond `max_bytes`, kMalformed
/// when the section lies outside the file.
Result<std::string> ReadElfSection(const ElfSource& source, const ElfSection& section,
                                   uint64_t max_bytes);
/// An ElfSource over an open file; valid while `file` lives.
ElfSource ElfFileSource(const File& file);
/// An ElfSource over bytes in memory; valid while `bytes` lives.
ElfSource ElfBytesSource(std::string_view bytes);

/// Parses an ELF image. kMalformed for garbage and for 0-byte placeholders (message says
/// "placeholder"), kUnsupported for ELF32 or big-endian files.
Result<ElfInfo> ParseElf(const ElfSource& source);
/// ParseElf over bytes in memory (tests, fuzzer).
Result<ElfInfo> ParseElfBytes(std::string_view bytes);
/// Opens `path` through the root and parses it.
Result<ElfInfo> ReadElf(const Root& root, std::string_view path);
/// "x86-64", "aarch64", or "machine 0xNN".
std::string ElfMachineName(uint16_t machine);

}  // namespace dlrig
