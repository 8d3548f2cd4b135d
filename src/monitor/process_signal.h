// Sending a signal to a GPU process from dlrig top: only to the caller's own processes unless
// the caller is root, checked against /proc/<pid>/status before kill(2), so a refusal is ours
// and says why rather than a bare EPERM.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/result.h"

namespace dlrig {

/// The real uid on the "Uid:" line of a /proc/<pid>/status text. Pure.
Result<uid_t> ProcessOwner(std::string_view status_text);

/// Whether a caller with real uid `me` (root when 0) may signal a process owned by `owner`:
/// kNoPermission, naming both, when not.
Result<void> MaySignal(uid_t owner, uid_t me, long long pid);

/// Checks the owner in /proc/<pid>/status, then sends `signal`. kNotFound when the process has
/// gone, kNoPermission when it is not ours or the kernel refuses.
Result<void> SignalProcess(long long pid, int signal);

/// "SIGTERM", "SIGKILL"...; "signal N" for one without a name here.
std::string SignalName(int signal);

}  // namespace dlrig
