// GPU compute capabilities (data/architectures.toml): the architecture and family of a CC, its
// example products, which CUDA toolkits can compile for it (nvcc sm_XY targets), and whether the
// open kernel module drives it. For judging "this toolkit / wheel cannot target this GPU".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

struct ArchRow {
  int cc_major = 0;
  int cc_minor = 0;
  std::string sm;            ///< "sm_90"
  std::string architecture;  ///< "Hopper", "Ada Lovelace", "Blackwell"
  std::string family;        ///< "Ampere (GA10x)", "Blackwell Ultra"
  std::vector<std::string> products;
  std::optional<Version> first_cuda;       ///< first CUDA whose nvcc targets it, when known
  std::optional<Version> removed_in_cuda;  ///< first CUDA that no longer can
  std::optional<bool> open_kernel_module;  ///< unset for Jetson (not the desktop driver)
  bool jetson = false;
  bool confirmed = true;  ///< false: only secondary sources
  std::string note;
  std::vector<std::string> sources;  ///< citations

  /// "9.0"
  std::string Cc() const;
};

class Architectures {
 public:
  static Result<Architectures> Parse(std::string_view text);
  /// The table from DataFileText("architectures.toml"), parsed once.
  static const Result<Architectures>& BuiltIn();

  const ArchRow* Find(int cc_major, int cc_minor) const;
  /// The row whose sm name matches ("sm_90"), else the lowest-CC row of that architecture
  /// ("Hopper"); case-insensitive. nullptr when none.
  const ArchRow* ForName(std::string_view name) const;
  /// Can nvcc of `cuda` compile for this CC? nullopt when the CC is unknown, or the release is
  /// older than the table covers and the row does not say.
  std::optional<bool> CudaCanTarget(const Version& cuda, int cc_major, int cc_minor) const;
  const std::vector<ArchRow>& rows() const { return rows_; }

 private:
  std::vector<ArchRow> rows_;  ///< by CC, ascending
  Version covered_from_;       ///< CUDA releases the table's "supported" answers cover
};

/// Architectures::BuiltIn().CudaCanTarget; nullopt also when the built-in table is unreadable.
std::optional<bool> CudaCanTarget(const Version& cuda, int cc_major, int cc_minor);

}  // namespace dlrig
