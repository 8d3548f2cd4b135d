// Writing a plan's files into -o DIR all or nothing: every file goes to a temporary name in its
// final directory first, and only when all are written are they renamed into place. An
// existing file is never replaced without Overwrite::kYes.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "plan/emit.h"

namespace dlrig {

enum class Overwrite { kNo, kYes };

/// Writes `files` under `dir` (created when missing). On any failure nothing new is left behind
/// and the error names the file. Returns the paths written.
Result<std::vector<std::string>> WriteFiles(const std::string& dir,
                                            const std::vector<GeneratedFile>& files,
                                            Overwrite overwrite);

}  // namespace dlrig
