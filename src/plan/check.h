// `dlrig check`: judges a project's environment files against a machine. Each finding names
// the file and line that cannot work there, why (the knowledge row and its source), and the
// line to put instead. Pure: facts in, findings out; the files are read by LoadProjectFile.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/pytorch_builds.h"
#include "plan/check_extensions.h"
#include "plan/judge.h"
#include "plan/machine.h"
#include "plan/project_files.h"
#include "rules/finding.h"

namespace dlrig {

struct CheckFinding {
  /// Stable kebab-case id; where doctor knows the same fault on an installed stack, its id
  /// (data/findings.toml), so `dlrig explain ID` tells more.
  std::string id;
  Severity severity = Severity::kError;
  Located at;               ///< the line that cannot work
  std::string what;         ///< what fails, one sentence
  std::string why;          ///< the knowledge that says so
  std::string source;       ///< where that knowledge comes from
  std::string replacement;  ///< the line to write instead; "" when no line of this file can fix it
  std::string fix;          ///< anything else to do (a driver upgrade, a line to add)
};

/// The tables the checks read; all must outlive the checks.
struct CheckKnowledge {
  const CudaDrivers* drivers = nullptr;
  const PytorchBuilds* torch = nullptr;
  const CudaExtensions* extensions = nullptr;
  const Extras* extras = nullptr;
  const TensorflowBuilds* tensorflow = nullptr;
  const JaxBuilds* jax = nullptr;

  /// The same tables as the constraint engine (plan/judge.h) reads them.
  ConstraintTables Constraints() const { return {extras, torch, drivers, tensorflow, jax}; }
};

/// The built-in (or --kb) tables; an unreadable table is its error.
Result<CheckKnowledge> BuiltInCheckKnowledge();

/// Every finding for one file, ordered by line.
std::vector<CheckFinding> CheckProject(const ProjectFacts& facts, const MachineSpec& machine,
                                       const CheckKnowledge& kb);

// The checks, one file each; CheckProject runs them all.
void CheckTorch(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                std::vector<CheckFinding>& out);
void CheckConda(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                std::vector<CheckFinding>& out);
void CheckExtensionBuilds(const ProjectFacts& facts, const MachineSpec& machine,
                          const CheckKnowledge& kb, std::vector<CheckFinding>& out);
void CheckContainers(const ProjectFacts& facts, const MachineSpec& machine,
                     const CheckKnowledge& kb, std::vector<CheckFinding>& out);
/// Extras (flash-attn, xformers, vllm, bitsandbytes, deepspeed, apex) through JudgeExtra.
void CheckExtras(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                 std::vector<CheckFinding>& out);
/// tensorflow (with or without [and-cuda]) and jax[cudaNN] / jax-cudaNN-plugin through
/// JudgeTensorflow / JudgeJax.
void CheckFrameworks(const ProjectFacts& facts, const MachineSpec& machine,
                     const CheckKnowledge& kb, std::vector<CheckFinding>& out);

// Shared by the checks.
/// The machine and a set of packages (one file, or one Dockerfile stage) as the constraint
/// engine sees them: the GPUs, driver, Python and nvcc, and the torch the packages pin.
StackTarget TargetOf(const MachineSpec& machine, const std::vector<PackageSpec>& packages,
                     const std::vector<IndexUrl>& indexes, const CheckKnowledge& kb);
/// The package `name` the lines ask for (`manager` "" = any), skipping lines whose environment
/// marker excludes this machine; nullptr when none.
const PackageSpec* FindPackage(const std::vector<PackageSpec>& packages, std::string_view name,
                               std::string_view manager, const MachineSpec& machine);
/// The CUDA version the machine's driver supports: as asked, else from the driver table.
std::optional<Version> DriverCuda(const MachineSpec& machine, const CudaDrivers& drivers);
/// The driver table's row for CUDA `cuda` (major.minor), or nullptr.
const CudaDriverRow* CudaRowFor(const CudaDrivers& drivers, const Version& cuda);
/// "driver >= 525.60.13 (minor-version compatibility; 530.30.02 for every feature)".
std::string DriverNeed(const CudaDriverRow& row);
/// `line` with the first `from` replaced by `to`; "" when `from` is not in it.
std::string ReplaceFirst(std::string_view line, std::string_view from, std::string_view to);
/// `p`'s line with the requirement itself (name, [extras], version spec) replaced by `with`,
/// keeping what surrounds it ("- " of a YAML list, quotes, "RUN pip install", options, a
/// marker); "" when the requirement is not found in the line.
std::string ReplaceRequirement(const PackageSpec& p, std::string_view with);
/// The variant of a download.pytorch.org index URL ("https://download.pytorch.org/whl/cu121"
/// -> "cu121", ".../whl/nightly/cu128" -> "cu128", ".../whl/cpu" -> "cpu"); "" for other URLs.
std::string TorchIndexVariant(std::string_view url);

}  // namespace dlrig
