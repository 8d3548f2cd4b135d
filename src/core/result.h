// Result<T>: a value or an Error that says why it could not be read.
// Keeps absent, forbidden and broken apart all the way to the output.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace dlrig {

/// Why a fact is unavailable. Stable names: they appear in JSON output.
enum class ErrorKind {
  kNotFound,      ///< the file, directory or symbol does not exist
  kNoPermission,  ///< it exists but we may not read it
  kMalformed,     ///< it was read but could not be parsed
  kTooLarge,      ///< larger than the cap for its kind of input
  kLoop,          ///< symbolic link loop or too many links
  kTimeout,       ///< a subprocess or driver call missed its deadline
  kUnsupported,   ///< the platform or device does not offer it
  kIo,            ///< any other operating-system error
};

/// Stable snake_case name of an ErrorKind ("not_found", ...).
const char* ErrorKindName(ErrorKind kind);

struct Error {
  ErrorKind kind;
  std::string message;  ///< human detail, names the path or call
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> Fail(ErrorKind kind, std::string message) {
  return tl::unexpected<Error>(Error{kind, std::move(message)});
}

/// Maps an errno value to an ErrorKind.
ErrorKind ErrorKindFromErrno(int err);

}  // namespace dlrig
