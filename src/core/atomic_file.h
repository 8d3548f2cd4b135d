// Writing a whole file so that a reader never sees half of it.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace dlrig {

/// Writes `text` beside `path`, syncs it and renames it into place; on failure the temporary is
/// removed and the error names `path`.
Result<void> WriteFileAtomically(const std::string& path, std::string_view text);

}  // namespace dlrig
