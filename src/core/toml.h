// TOML through toml++ in header-only mode (Debian ships it as a shared library; dlrig links
// nothing third-party dynamically). Parse with ParseToml, never toml::parse directly.
#pragma once

#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#endif
#include <toml++/toml.h>

#include <string_view>

#include "core/result.h"

namespace dlrig {

/// Parses `text`; kMalformed with toml++'s message (prefixed by `what`) on error.
/// Guards toml++ 3.3.0 (Debian 12) against input that drives it into __builtin_unreachable
/// (marzer/tomlplusplus#295 and #190, found here by our fuzzer, fixed upstream after 3.3.0 by
/// PR #305): text with non-ASCII bytes or control characters is refused before parsing.
Result<toml::table> ParseToml(std::string_view text, std::string_view what);

/// The guard alone: an error message, or "" when toml++ may safely see `text`.
std::string TomlInputProblem(std::string_view text);

}  // namespace dlrig
