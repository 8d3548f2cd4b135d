// A model of glibc's ld.so search for one DT_NEEDED name: which file would be loaded, found
// by which step, and every candidate tried on the way. Reads through the Root only.
// Order (glibc elf/dl-load.c _dl_map_object): DT_RPATH of the importer (only when it has no
// DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, ld.so.cache, default directories.
// Out of scope: LD_PRELOAD, RPATHs inherited from the loading chain, hwcaps subdirectories.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/root.h"
#include "probe/elf.h"
#include "probe/elf_symbols.h"
#include "probe/ldconfig.h"

namespace dlrig {

enum class LoaderStep { kDirectPath, kRpath, kLdLibraryPath, kRunpath, kCache, kDefaultDirs };

/// Stable snake_case name ("runpath", "ld_library_path", ...).
const char* LoaderStepName(LoaderStep step);

struct LoaderCandidate {
  std::string path;  ///< the file tried (root-relative absolute path)
  LoaderStep step;
  std::string outcome;  ///< "loaded", "not found", "wrong machine x86-64 != aarch64", ...
};

struct LoaderResolution {
  Result<std::string> path = Fail(ErrorKind::kNotFound, "not resolved");  ///< as ld.so opens it
  LoaderStep step = LoaderStep::kDefaultDirs;  ///< how `path` was found (valid when path is)
  bool placeholder = false;  ///< the found file is a 0-byte placeholder (captures)
  std::vector<LoaderCandidate> tried;
  /// The importer's versioned needs that the loaded file does not meet. Set only when
  /// ResolveNeeded was given the importer's symbols and found a real (not placeholder) file;
  /// an error when that file's symbol tables could not be read.
  std::optional<Result<SymbolCheck>> symbols;
};

/// What the search depends on besides the importer.
struct LoaderSearch {
  const LoaderConfig* config = nullptr;          ///< cache and default dirs; null: none
  std::vector<std::string> ld_library_path;      ///< LD_LIBRARY_PATH entries of the process
  std::string lib_dst = "lib/x86_64-linux-gnu";  ///< what $LIB expands to
  std::string platform = "x86_64";               ///< what $PLATFORM expands to
};

/// Expands $ORIGIN / ${ORIGIN}, $LIB, $PLATFORM in one RPATH/RUNPATH entry.
std::string ExpandDst(std::string_view entry, std::string_view origin_dir,
                      const LoaderSearch& search);

/// Predicts what ld.so loads for `soname` needed by the ELF at `importer` (whose parsed
/// headers are `importer_elf`). The RPATH/RUNPATH used are those of `importer_elf`, so a
/// caller may pass an assumed layout for a placeholder importer. With `importer_symbols`
/// (ReadElfSymbols of the importer, read once for all its dependencies) the found file's
/// symbol versions are checked too (LoaderResolution::symbols).
LoaderResolution ResolveNeeded(const Root& root, const LoaderSearch& search,
                               std::string_view importer, const ElfInfo& importer_elf,
                               std::string_view soname,
                               const ElfSymbols* importer_symbols = nullptr);

/// $LIB for the inspected system: "lib64" on RHEL-like trees, Debian's multiarch dir otherwise.
std::string DetectLibDst(const Root& root, uint16_t machine);

}  // namespace dlrig
