// Finding programs the way a shell would: PATH of the inspected environment, through the Root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probe/context.h"

namespace dlrig {

/// Every executable file named `name` on the inspected PATH, in PATH order (first = what the
/// shell runs). Empty PATH entries and missing directories are skipped.
std::vector<std::string> FindAllOnPath(const ProbeContext& ctx, const std::string& name);
/// The first one, or nullopt.
std::optional<std::string> FindOnPath(const ProbeContext& ctx, const std::string& name);

}  // namespace dlrig
