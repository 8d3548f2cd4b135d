// The NCCL releases NVIDIA publishes as pip wheels (data/nccl.toml): which X.Y.Z a
// pip-installed framework can get for CUDA 12 (nvidia-nccl-cu12) and CUDA 13 (nvidia-nccl-cu13).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

struct NcclRelease {
  Version release;            ///< "2.32": every 2.32.z
  std::vector<Version> cu12;  ///< nvidia-nccl-cu12 versions, oldest first; empty: none
  std::vector<Version> cu13;  ///< nvidia-nccl-cu13 versions, oldest first; empty: none
  std::string first_upload;   ///< "2026-09-22"
  std::string source;
};

class NcclReleases {
 public:
  static Result<NcclReleases> Parse(std::string_view text);
  static const Result<NcclReleases>& BuiltIn();
  /// The row of `nccl`'s X.Y ("2.32.3" -> 2.32); nullptr when the table lacks it.
  const NcclRelease* Find(const Version& nccl) const;
  /// The newest NCCL wheel for CUDA `cuda_major` (12 or 13); nullopt for any other major.
  std::optional<Version> Newest(int cuda_major) const;
  const std::vector<NcclRelease>& rows() const { return rows_; }

 private:
  std::vector<NcclRelease> rows_;  ///< oldest first
};

}  // namespace dlrig
