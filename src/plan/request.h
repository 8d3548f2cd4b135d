// What `dlrig plan` is asked for: frameworks with optional versions, companion packages, the
// Python, whether CUDA code gets compiled, and the kind of environment to write.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

enum class Target { kVenv, kConda, kDocker, kDevcontainer, kSystem };
enum class DriverPolicy { kKeep, kMayUpgrade };

const char* TargetName(Target target);

/// "torch==2.3", "jax[cuda12]", "tensorflow": a framework and, when pinned, its X.Y[.Z].
struct FrameworkRequest {
  std::string name;               ///< "torch", "tensorflow", "jax"
  std::optional<Version> version;
  std::string extra;              ///< "cuda12" from jax[cuda12]; "" when none
};

struct Request {
  std::vector<FrameworkRequest> frameworks;
  std::vector<std::string> extras;  ///< "torchvision", "apex", ... in request order
  std::optional<Version> python;    ///< --python
  std::optional<Version> cuda;      ///< --cuda X.Y: only builds for that CUDA
  bool compile = false;             ///< --compile, or implied by apex / flash-attn
  bool compile_implied = false;     ///< compile came from an extra, not --compile
  Target target = Target::kVenv;
  DriverPolicy driver = DriverPolicy::kKeep;

  const FrameworkRequest* Find(const std::string& name) const;
  bool HasExtra(const std::string& name) const;
  /// The request as a command line ("torch==2.3 torchvision --python 3.11 --target conda").
  std::string Text() const;
};

/// What the command line said, before checking.
struct RequestArgs {
  std::vector<std::string> packages;
  std::string python, cuda, target = "venv";
  bool compile = false;
  bool upgrade_driver = false;
};

/// Checks every field; a malformed or unknown one is kMalformed naming what would be accepted.
Result<Request> ParseRequest(const RequestArgs& args);

/// Extension packages built from source against the installed torch.
bool IsBuiltExtension(const std::string& name);

}  // namespace dlrig
