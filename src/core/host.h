// Facts about the running host that several commands stamp on their output.
#pragma once

#include <cstdint>
#include <string>

namespace dlrig {

/// gethostname(), or "" when it fails.
std::string Hostname();

/// Milliseconds since the Unix epoch, wall clock.
int64_t NowMs();

}  // namespace dlrig
