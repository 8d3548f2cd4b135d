// The planner: MachineSpec + Request + the knowledge tables -> the newest stack every constraint
// allows, or the constraint that fails with the nearest alternatives. Pure: no I/O besides the
// built-in (or --kb) tables.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "knowledge/pytorch_builds.h"
#include "plan/machine.h"
#include "plan/plan.h"
#include "plan/request.h"

namespace dlrig {

/// Why no stack fits: the constraint ("driver", "gpu-architecture", "python", "release",
/// "cuda", "compiler", "image", "knowledge"), what failed, and what would work instead.
struct PlanFailure {
  std::string constraint;
  std::string message;
  std::vector<std::string> alternatives;  ///< "--upgrade-driver: torch 2.13 cu130 on driver 595"
};

using PlanResult = tl::expected<Plan, PlanFailure>;

PlanResult Resolve(const MachineSpec& machine, const Request& request);

/// Does a build with `archs` run on a GPU of compute capability `cc`: a cubin of the same
/// major with minor <= the GPU's, or PTX of an arch <= the GPU's (JIT-compiled by the driver).
bool ArchListRuns(const std::vector<CudaArch>& archs, const Version& cc);

}  // namespace dlrig
