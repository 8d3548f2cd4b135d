// TOML through toml++ in header-only mode (Debian ships it as a shared library; dlrig links
// nothing third-party dynamically). Parse with ParseToml, never toml::parse directly.
#pragma once

#include <stdexcept>
#include <string>

namespace dlrig {
/// toml++'s own consistency checks (TOML_ASSERT, live in builds without NDEBUG: debug, fuzz)
/// throw this instead of aborting, and ParseToml turns it into an error: hostile input may
/// break an invariant toml++ 3.3.0 did not expect, and that must not kill a debug `doctor`.
struct TomlCheckFailed : std::logic_error {
  using std::logic_error::logic_error;
};
[[noreturn]] void ThrowTomlCheckFailed(const char* check);
}  // namespace dlrig

#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#endif
#define TOML_ASSERT(expr) ((expr) ? static_cast<void>(0) : ::dlrig::ThrowTomlCheckFailed(#expr))
#include <toml++/toml.h>

#include <string_view>

#include "core/result.h"

namespace dlrig {

/// Parses `text`; kMalformed with toml++'s message (prefixed by `what`) on error.
/// Guards toml++ 3.3.0 (Debian 12) against input that drives it into __builtin_unreachable
/// (marzer/tomlplusplus#295 and #190, found here by our fuzzer, fixed upstream after 3.3.0 by
/// PR #305): text with non-ASCII bytes or control characters is refused before parsing; and
/// against a table header whose name starts with neither a key character nor a quote (`[[[`)
/// and an array element that starts with `}` (`a = [}`), which break toml++'s parse_key and
/// parse_value preconditions (an assertion, or __builtin_assume under clang with NDEBUG).
Result<toml::table> ParseToml(std::string_view text, std::string_view what);

/// The guard alone: an error message, or "" when toml++ may safely see `text`.
std::string TomlInputProblem(std::string_view text);

}  // namespace dlrig
