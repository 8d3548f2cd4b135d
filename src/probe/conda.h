// python layer, conda side: where conda/mamba environments are and what their conda-meta
// says, from file names alone ("pytorch-2.5.1-py3.12_cuda12.4_cudnn9.1.0_0.json").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct CondaPackage {
  std::string name;     ///< "pytorch"
  std::string version;  ///< "2.5.1"
  std::string build;    ///< "py3.12_cuda12.4_cudnn9.1.0_0"
};

/// A prefix that holds (or is said to hold) a conda environment, and who said so.
struct CondaEnvRef {
  std::string prefix;                ///< "/root/miniconda3/envs/ml"
  std::vector<std::string> origins;  ///< "CONDA_PREFIX", "/root/.conda/environments.txt", ...
};

/// "name-version-build.json" → package; nullopt for other names.
std::optional<CondaPackage> ParseCondaMetaName(std::string_view file_name);
/// True for the packages dlrig reports: cuda-version, cudatoolkit, cuda-*, cudnn, nccl,
/// pytorch, tensorflow, jaxlib, python.
bool IsCondaCudaPackage(std::string_view name);
/// Home directories of the inspected machine: /root and every /home/* directory.
std::vector<std::string> HomeDirs(const Root& root);
/// Every conda environment: CONDA_PREFIX, ~/.conda/environments.txt of each home, base
/// installs (~/miniconda3, ~/anaconda3, ~/miniforge3, /opt/conda, ...) and their envs/.
/// Only prefixes that exist are returned; a prefix is listed once.
std::vector<CondaEnvRef> FindCondaEnvs(const ProbeContext& ctx);
/// All packages of `prefix`/conda-meta from one directory listing (no JSON parsed).
Result<std::vector<CondaPackage>> ListCondaPackages(const Root& root, std::string_view prefix);

}  // namespace dlrig
