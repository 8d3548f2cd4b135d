// The constraint engine `plan` and `check` share: may this extra (flash-attn, xformers, vllm,
// bitsandbytes, deepspeed, apex, flash-attn-3) or framework build (tensorflow[and-cuda],
// jax[cudaNN]) run on this machine next to this torch, and if not, why and what to pin
// instead. Pure: facts and tables in, a judgement out. A fact that is unknown (no GPU compute
// capability, no torch pin, no driver) skips the checks that need it: never a guessed refusal.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/version.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/framework_builds.h"
#include "knowledge/pytorch_builds.h"
#include "plan/extras.h"

namespace dlrig {

/// The tables the judgements read; all must outlive the calls. Null tables skip their checks.
struct ConstraintTables {
  const Extras* extras = nullptr;
  const PytorchBuilds* torch = nullptr;
  const CudaDrivers* drivers = nullptr;
  const TensorflowBuilds* tensorflow = nullptr;
  const JaxBuilds* jax = nullptr;
};

/// The built-in (or --kb) tables; an unreadable one is its error.
Result<ConstraintTables> BuiltInConstraintTables();

/// One GPU of the machine.
struct TargetGpu {
  std::string name;  ///< "NVIDIA GeForce GTX 1080 Ti", for messages
  Version cc;        ///< compute capability "6.1"
};

/// The machine and the stack an extra is judged against.
struct StackTarget {
  std::vector<TargetGpu> gpus;  ///< GPUs whose compute capability is known
  /// The torch release ("2.5.1"; "2.5" when only X.Y is pinned); nullopt: none chosen.
  std::optional<Version> torch;
  std::string torch_variant;      ///< "cu124", "cpu"; "" unknown
  std::optional<Version> driver;  ///< installed driver; nullopt: none or unknown
  std::optional<Version> python;  ///< X.Y of the environment's CPython
  /// The toolkit a source build would use (nvcc X.Y); nullopt: none yet (a plan that compiles
  /// installs `ExtraBuildPlan::nvcc`).
  std::optional<Version> nvcc;
};

enum class Verdict {
  kAllowed,  ///< every known constraint holds
  kRefused,  ///< a constraint fails: `reason` says which
  kUnknown,  ///< the table does not cover the release: nothing judged
};

/// How an allowed extra gets installed.
struct ExtraBuildPlan {
  bool from_source = false;     ///< compiled with nvcc (at install, or at first use for jit)
  bool jit = false;             ///< compiled at first use (DeepSpeed ops)
  std::optional<Version> nvcc;  ///< the toolkit X.Y a build needs (torch's CUDA)
  /// Variables for a source build: the arch list limited to the machine's GPUs
  /// ("TORCH_CUDA_ARCH_LIST=8.6", "FLASH_ATTN_CUDA_ARCHS=80") and the MAX_JOBS the project
  /// recommends ("MAX_JOBS=4").
  std::vector<std::string> env;
  std::string wheel_url;  ///< where the prebuilt wheel comes from, when not PyPI
};

struct ExtraJudgement {
  Verdict verdict = Verdict::kUnknown;
  std::string package;
  /// The release judged: the one asked for, or (none asked) the one pip would pick.
  std::optional<Version> version;
  /// What refused it: "gpu", "torch", "python", "driver", "nvcc"; "" unless kRefused.
  std::string constraint;
  std::string reason;  ///< why refused; for kAllowed what holds; for kUnknown why unknown
  std::string source;  ///< the data rows behind the verdict ("data/extras.toml: ...")
  /// The requirement to write: `package==version` when allowed, the newest allowed release
  /// when refused ("" when none runs here, or when the package has no PyPI versions: apex).
  std::string pin;
  std::string torch_pin;  ///< the torch this extra's wheel forces ("torch==2.5.1"), "" when none
  ExtraBuildPlan build;
  std::vector<std::string> notes;  ///< caveats (unconfirmed rows, a build that takes hours)
};

/// Judges `package` (PEP 503 name) at `version` (nullopt: whatever pip would pick next to the
/// target's torch, and the newest allowed release as `pin`) against `target`. kUnknown for a
/// package or release the table lacks.
ExtraJudgement JudgeExtra(std::string_view package, const std::optional<Version>& version,
                          const StackTarget& target, const ConstraintTables& kb);

/// Can one GPU of compute capability `cc` run a row's code (its arch list, else its range)?
bool ExtraRunsOn(const ExtraRow& row, const Version& cc);

/// A framework build judged against the machine.
struct FrameworkJudgement {
  Verdict verdict = Verdict::kUnknown;
  std::string constraint;  ///< "driver", "gpu", "python" when refused
  std::string reason;
  std::string source;
  /// The requirement to write instead when refused ("tensorflow[and-cuda]==2.14.*",
  /// "jax[cuda12]"); when allowed but incomplete, the better line (see `advice`).
  std::string pin;
  std::string advice;  ///< allowed but will not use the GPU as written (no [and-cuda])
};

/// TensorFlow `version` (nullopt: the newest in the table) from PyPI, with (`and_cuda`) or
/// without the extra that installs NVIDIA's CUDA wheels, against the driver and the Python.
FrameworkJudgement JudgeTensorflow(const std::optional<Version>& version, bool and_cuda,
                                   const StackTarget& target, const ConstraintTables& kb);

/// JAX's CUDA `cuda_major` plugin at jaxlib `version` (nullopt: the newest row) against the
/// driver and the GPUs' compute capability.
FrameworkJudgement JudgeJax(const std::optional<Version>& version, int cuda_major,
                            const StackTarget& target, const ConstraintTables& kb);

}  // namespace dlrig
