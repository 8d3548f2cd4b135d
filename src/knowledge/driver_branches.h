// NVIDIA driver branches and the GPUs they drive (data/driver-branches.toml): which branch is
// the last for Kepler or Volta, which is the first for Blackwell, which GPUs the open kernel
// module drives or requires. The newest CUDA of a branch comes from cuda-drivers.toml.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/version.h"
#include "knowledge/cuda_drivers.h"

namespace dlrig {

/// The flavor of nvidia.ko loaded (or planned).
enum class KernelModule { kUnknown, kOpen, kProprietary };

struct BranchRow {
  int branch = 0;           ///< 580
  std::string designation;  ///< "long-term support", "production", "new feature", "legacy", or ""
  std::string end_of_life;  ///< "2028-06", or ""
  std::string note;
  std::vector<std::string> sources;
};

/// Driver limits shared by a set of compute capabilities.
struct GpuSupportRow {
  std::string architecture;              ///< as in architectures.toml
  std::vector<std::pair<int, int>> ccs;  ///< {major, minor}
  std::optional<int> last_branch;        ///< newest branch that drives them
  std::optional<int> min_branch;         ///< oldest branch that drives them
  std::optional<bool> open_module;       ///< does the open kernel module drive them
  bool open_module_required = false;     ///< the proprietary module does not
  bool confirmed = true;
  std::string note;
  std::vector<std::string> sources;
};

class DriverBranches {
 public:
  static Result<DriverBranches> Parse(std::string_view text);
  /// The table from DataFileText("driver-branches.toml"), parsed once.
  static const Result<DriverBranches>& BuiltIn();

  /// Facts about `branch`, or nullptr when the table has none.
  const BranchRow* Branch(int branch) const;
  /// The limits for a CC, or nullptr when the table has none.
  const GpuSupportRow* SupportFor(int cc_major, int cc_minor) const;

  /// Can `driver` drive a GPU of this CC with kernel module `module`? False when its branch is
  /// past the CC's last branch or before its first, or the module flavor cannot drive it;
  /// nullopt when the table does not know the CC.
  std::optional<bool> Supports(const Version& driver, int cc_major, int cc_minor,
                               KernelModule module = KernelModule::kUnknown) const;
  /// Must the GPU use the open kernel module? nullopt when the CC is unknown.
  std::optional<bool> NeedsOpenModule(int cc_major, int cc_minor) const;
  /// Can the open kernel module drive it at all? nullopt when unknown.
  std::optional<bool> OpenModuleDrives(int cc_major, int cc_minor) const;
  /// The last branch that drives the CC; nullopt when current branches still do, or unknown.
  std::optional<int> LastBranch(int cc_major, int cc_minor) const;

  const std::vector<BranchRow>& branches() const { return branches_; }
  const std::vector<GpuSupportRow>& support() const { return support_; }

 private:
  std::vector<BranchRow> branches_;  ///< ascending
  std::vector<GpuSupportRow> support_;
};

/// The newest CUDA that the newest driver of `branch` supports: the newest CUDA release whose
/// toolkit driver belongs to `branch` or an older one (470 -> 11.4, 580 -> 13.0).
std::optional<Version> NewestCudaForBranch(int branch, const CudaDrivers& cuda_drivers);

}  // namespace dlrig
