// A resolved stack for one machine and one request: what to install, where from, and why each
// choice was made. The resolver fills it; the emitters turn it into files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/version.h"
#include "plan/machine.h"
#include "plan/os_python.h"
#include "plan/request.h"

namespace dlrig {

/// One decision for --explain: what was chosen, the constraint that chose it, and the data row
/// (or machine fact) behind it.
struct Decision {
  std::string topic;  ///< "torch", "driver", "python", ...
  std::string choice;
  std::string why;
  std::string source;
};

/// A driver the plan installs (only when it changes the machine's driver).
struct DriverInstall {
  int branch = 0;                 ///< 580
  bool open_module = false;       ///< nvidia-driver-580-open
  std::optional<Version> cuda;    ///< the newest CUDA the branch runs
  /// Debian: the distribution's own nvidia-driver (its one branch) runs the stack and drives
  /// every GPU, so setup.sh takes it instead of NVIDIA's CUDA repository.
  bool distro_package_runs = false;
  std::string Package() const;    ///< "nvidia-driver-580-open"
};

/// How the environment's Python is obtained.
enum class PythonSource {
  kRequested,  ///< --python, provided by the target's own means (conda python=, uv)
  kMachine,    ///< python3 on this machine's PATH
  kOs,         ///< the target OS's own python3 (data/os-python.toml)
  kUv,         ///< the OS's python3 is out of the stack's range: `uv python install X.Y`
  kConda,      ///< conda-forge python=X.Y
  kImage,      ///< the container image's python3
  kUnknown,    ///< no OS known: the newest the stack allows, provided by uv
};

/// One package of the resolver's answer (pip's --report "install" list).
struct ResolvedPackage {
  std::string name;     ///< as the metadata spells it: "torch", "nvidia-cudnn-cu12"
  std::string version;  ///< "2.11.0+cu128"
  std::string url;      ///< where pip would download it from
  bool requested = false;
};

/// What the ecosystem's resolver said about the plan's requirements.
struct Resolution {
  bool ran = false;        ///< a resolver answered
  bool offline = false;    ///< pins come from dlrig's tables (--offline, no answer, no resolver)
  std::string tool;        ///< "pip 23.2.1", "uv 0.9.5"
  std::string verdict;     ///< "resolved", "offline", "no-answer", "wrong-variant", "conflict"
  std::string message;     ///< one line: why offline, or what the resolver chose
  std::string interpreter; ///< "python3.10 venv" or "python3.11 venv, --python-version 3.10"
  std::vector<std::string> command;           ///< the resolver's argv, for --explain
  std::vector<ResolvedPackage> packages;      ///< the whole answer
};

struct Plan {
  Request request;
  MachineSpec machine;
  Version python;                  ///< the interpreter the environment is made with
  PythonSource python_source = PythonSource::kUnknown;
  std::optional<OsPythonRow> os;   ///< the target OS's row of data/os-python.toml, when known
  std::string variant;             ///< "cu126", "cpu"; "" when no PyTorch
  std::optional<Version> cuda;     ///< the CUDA the frameworks were built for
  std::optional<Version> torch;    ///< release row, "2.13"
  std::string index_url;           ///< "" = PyPI; else download.pytorch.org/whl/<variant>
  /// Requirement lines as written: exact pins (`torch==2.11.0+cu128`) from the resolver's
  /// report, else from the tables' exact versions.
  std::vector<std::string> requirements;
  /// What the plan asks the resolver for: `torch==2.11.*`, `torchaudio`, `tensorflow[and-cuda]==2.21.*`.
  std::vector<std::string> constraints;
  /// Requested packages that only PyPI serves (deepspeed, bitsandbytes, tensorflow, jax): the
  /// PyTorch index cannot answer them alone.
  bool needs_pypi = false;
  /// The torch, torchvision and torchaudio pins of `index_url`'s variant: each must exclude the
  /// other variants when PyPI is an extra index (a py3-none companion is left out of it).
  std::vector<std::string> variant_packages = {"torch", "torchvision", "torchaudio"};
  Resolution resolution;
  std::vector<std::string> build_requirements;  ///< built after torch, --no-build-isolation
  std::optional<DriverInstall> driver;          ///< set when the plan changes the driver
  std::optional<Version> toolkit;               ///< nvcc X.Y, when compiling
  std::optional<int> newest_gcc;                ///< newest GCC major that toolkit accepts
  std::string docker_image;                     ///< FROM, docker/devcontainer targets
  std::string docker_image_source;
  std::vector<Decision> decisions;
  std::vector<std::string> notes;  ///< things the user must know (unconfirmed data, caveats)
};

}  // namespace dlrig
