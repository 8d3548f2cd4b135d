// The constraints `plan` decides from knowledge before the ecosystem's resolver is asked, as pure
// functions of table rows: `check` calls the same ones to judge a project's files, so both agree.
// No I/O: every input is a table row or a value the caller already has.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"
#include "knowledge/framework_builds.h"
#include "knowledge/pytorch_builds.h"
#include "plan/os_python.h"
#include "plan/plan.h"

namespace dlrig {

enum class GpuUse { kCpuOnly, kCuda };

/// PEP 503 normalised package name: lower case, runs of "-", "_", "." as one "-".
std::string NormalizedName(std::string_view name);
/// The normalised package name of a requirement line: "Torch_Audio[x]==2.1" -> "torch-audio".
std::string RequirementName(std::string_view line);

/// The requirement name of TensorFlow release `row`: "tensorflow[and-cuda]" when the plan uses
/// a GPU and the release has the extra (2.14 on; pip's plain tensorflow then finds no CUDA and
/// runs on the CPU), else the row's package ("tensorflow", "tensorflow_gpu" for 1.x).
std::string TensorflowRequirementName(const TensorflowBuild& row, GpuUse gpu);

/// The first of `wanted` ("torchvision", "torchaudio"; others ignored) that made no release for
/// torch release `rel`; "" when every one did.
std::string MissingCompanion(const TorchRelease& rel, const std::vector<std::string>& wanted);

/// The local version label of `rel` built as `variant` on its index: "+cu126"; "" for the
/// variant PyPI carries untagged (`pypi_default`).
std::string LocalTag(const TorchRelease& rel, const std::string& variant);

/// The requirement lines given to the resolver for torch and the companions in `wanted`:
/// "torch==2.11.*" and the companion names unpinned (each companion pins its torch exactly, so
/// the resolver picks the one made for it).
std::vector<std::string> TorchConstraints(const TorchRelease& rel,
                                          const std::vector<std::string>& wanted);

/// Exact pins from the table when no resolver answers: "torch==2.11.0+cu128",
/// "torchaudio==2.11.1+cu128"; nullopt when the row lacks an exact version of one of them.
std::optional<std::vector<std::string>> TorchTablePins(const TorchRelease& rel,
                                                       const std::string& variant,
                                                       const std::vector<std::string>& wanted);

/// Does requirement line `line` admit only one build variant: an exact `==` pin with a local
/// label ("torch==2.13.0+cu126"). "torch==2.13.*" or "torch==2.13.0" do not: PyPI's plain wheel
/// satisfies them.
bool PinExcludesOtherVariants(std::string_view line);

/// The index lines of a requirements file for a plan on `index_url` ("" = PyPI alone).
/// PyPI is added as an extra index only when `needs_pypi` (a requested package only PyPI serves)
/// and every line of `pins` that names a package of `index_url`'s variant (`variant_packages`)
/// excludes the other variants; otherwise pip, which takes the highest version over all
/// indexes, could install PyPI's default variant when the PyTorch index is slow or unreachable.
/// kConflict when PyPI is needed but a variant pin is not exact.
Result<std::vector<std::string>> IndexLines(const std::string& index_url,
                                            const std::vector<std::string>& pins,
                                            const std::vector<std::string>& variant_packages,
                                            bool needs_pypi);

/// Where the environment's Python comes from and why.
struct PythonPick {
  Version version;  ///< X.Y
  PythonSource source = PythonSource::kUnknown;
  std::string why;
  std::string row_source;  ///< the data row or machine fact behind it
};

/// Whether the target may bring a Python other than the one it has.
enum class PythonFreedom { kFixed, kProvidable };

/// The Python of the environment for a stack with wheels for [min, max]: `requested` when
/// given (nullopt when outside the range); else `machine_python` (this machine's python3), else
/// the OS's python3 from `os`; when that is outside the range and `freedom` is kProvidable, the
/// nearest version inside it, provided by uv (conda provides its own). nullopt when nothing fits.
std::optional<PythonPick> PickPython(const std::optional<Version>& requested,
                                     const std::optional<Version>& machine_python,
                                     const OsPythonRow* os, PythonFreedom freedom,
                                     const Version& min, const Version& max);

/// The CUDA major of an nvidia-* wheel of pip's answer: "nvidia-cudnn-cu12" -> 12; the
/// unsuffixed CUDA 13 wheels ("nvidia-cuda-runtime" 13.0.96) by their version; nullopt for
/// anything else.
std::optional<int> CudaMajorOfWheel(std::string_view name, std::string_view version);

/// Does the resolver's answer hold the variant the plan chose? "" when it does, else why not:
/// torch without the "+cuXYZ" of a variant index, nvidia-* wheels of another CUDA major,
/// TensorFlow without its CUDA wheels (CPU-only), jax without its CUDA plugin.
std::string CheckAnswer(const Plan& plan, const std::vector<ResolvedPackage>& packages);

}  // namespace dlrig
