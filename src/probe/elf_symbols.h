// Symbol versions of one ELF, read without loading it: which versioned symbols an importer
// needs from which file, and which (symbol, version) pairs a provider defines. Together they
// predict ld.so's "version `X' not found" and "undefined symbol: f, version X" before any
// import is tried. Reads .dynsym, .dynstr, .gnu.version, .gnu.version_d and .gnu.version_r
// with one bounded read each (found through the section headers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/root.h"
#include "probe/elf.h"

namespace dlrig {

/// An undefined dynamic symbol of an importer. Views point into ElfSymbols::strings.
struct ElfSymbolNeed {
  std::string_view name;     ///< "cudaGraphInstantiateWithFlags"
  std::string_view version;  ///< "libcudart.so.11.0"; "" when unversioned
  std::string_view file;     ///< the DT_NEEDED name the version comes from; "" when unversioned
  bool weak = false;         ///< STB_WEAK: ld.so leaves it null when nothing defines it
};

/// A defined dynamic symbol of a provider.
struct ElfSymbolDef {
  std::string_view name;
  std::string_view version;  ///< "FOO_1.0"; "" when the provider has no version definitions
};

/// One version node a provider defines (.gnu.version_d).
struct ElfVersionDef {
  std::string_view name;  ///< "FOO_1.1"; the base entry carries the SONAME
  bool base = false;      ///< VER_FLG_BASE: the file's own entry
};

/// One version an importer requires of a file (.gnu.version_r entry and aux).
struct ElfVersionNeedEntry {
  std::string_view file;     ///< "libfoo.so.1"
  std::string_view version;  ///< "FOO_1.1"
  bool weak = false;         ///< VER_FLG_WEAK: ld.so only warns when it is missing
};

/// The versioning facts of one ELF. The string views stay valid as long as any copy of the
/// struct lives (they point into the shared `strings`).
struct ElfSymbols {
  std::shared_ptr<const std::string> strings;  ///< .dynstr contents
  std::vector<ElfSymbolNeed> needs;            ///< undefined symbols (importer side)
  std::vector<ElfSymbolDef> defs;              ///< defined symbols (provider side)
  std::vector<ElfVersionDef> version_defs;     ///< empty: the file is unversioned
  std::vector<ElfVersionNeedEntry> version_needs;
  bool has_version_table = false;              ///< a .gnu.version section exists
};

/// A (symbol, version) pair that an importer needs and a provider lacks.
struct MissingSymbol {
  std::string name;
  std::string version;
};

/// What ld.so would refuse when `importer` is bound to one provider.
struct SymbolCheck {
  /// Versions required of the provider that it does not define: ld.so fails at load
  /// ("version `FOO_1.1' not found (required by ...)"). Weak version needs are left out.
  std::vector<std::string> missing_versions;
  /// Versioned symbols the provider does not define with that version: with immediate binding
  /// (RTLD_NOW, as Python imports extensions) ld.so fails with "undefined symbol: f, version V".
  std::vector<MissingSymbol> missing_symbols;  ///< sorted by name, then version
  bool ok() const { return missing_versions.empty() && missing_symbols.empty(); }
};

/// Parses the symbol tables of an ELF image. A file without a .dynsym (static executable,
/// object without dynamic symbols) yields empty lists; no section headers is kUnsupported.
Result<ElfSymbols> ParseElfSymbols(const ElfSource& source);
/// ParseElfSymbols over bytes in memory (tests, fuzzer).
Result<ElfSymbols> ParseElfSymbolsBytes(std::string_view bytes);
/// Opens `path` through the root and parses its symbol tables.
Result<ElfSymbols> ReadElfSymbols(const Root& root, std::string_view path);

/// The versioned needs of `importer` from the file it names `provider_name` (its DT_NEEDED
/// string, which is what .gnu.version_r records) that `provider` does not meet, following
/// glibc (elf/dl-version.c match_symbol, elf/dl-lookup.c check_match), checked against
/// ld.so 2.36 in tests/unit/elf_symbols_test.cc:
/// - a provider with version definitions must define each required version node, and each
///   versioned undefined symbol with that exact version ("f@@V" or "f@V");
/// - a provider without version definitions only draws the warning "no version information
///   available"; its symbols then match by name when it has a .gnu.version table, and match
///   nothing when it has none (ld.so stops: "Inconsistency detected by ld.so: ...
///   check_match: Assertion"), so every versioned need of it is reported.
/// Unversioned and weak needs are not checked: ld.so may find those in any loaded object.
/// glibc searches every loaded object for a versioned symbol too; versions are named per
/// library in practice, so the provider that defines the version node is the one that counts.
SymbolCheck CheckSymbolNeeds(const ElfSymbols& importer, std::string_view provider_name,
                             const ElfSymbols& provider);

}  // namespace dlrig
