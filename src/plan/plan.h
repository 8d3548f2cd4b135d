// A resolved stack for one machine and one request: what to install, where from, and why each
// choice was made. The resolver fills it; the emitters turn it into files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/version.h"
#include "plan/machine.h"
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
  std::string Package() const;    ///< "nvidia-driver-580-open"
};

struct Plan {
  Request request;
  MachineSpec machine;
  Version python;                  ///< the interpreter the environment is made with
  std::string variant;             ///< "cu126", "cpu"; "" when no PyTorch
  std::optional<Version> cuda;     ///< the CUDA the frameworks were built for
  std::optional<Version> torch;    ///< release row, "2.13"
  std::string index_url;           ///< "" = PyPI; else download.pytorch.org/whl/<variant>
  std::vector<std::string> requirements;        ///< requirement lines, exact where known
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
