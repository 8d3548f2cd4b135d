#include "core/result.h"

#include <cerrno>

namespace dlrig {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kNoPermission: return "no_permission";
    case ErrorKind::kMalformed: return "malformed";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kLoop: return "symlink_loop";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kIo: return "io_error";
  }
  return "io_error";
}

ErrorKind ErrorKindFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR: return ErrorKind::kNotFound;
    case EACCES:
    case EPERM: return ErrorKind::kNoPermission;
    case ELOOP: return ErrorKind::kLoop;
    case EFBIG: return ErrorKind::kTooLarge;
    case ETIMEDOUT: return ErrorKind::kTimeout;
    default: return ErrorKind::kIo;
  }
}

}  // namespace dlrig
