// systemd-logind's RemoveIPC policy and the user it applies to: with RemoveIPC=yes (the
// default) logind deletes a regular user's /dev/shm segments when their last session ends,
// killing NCCL jobs left running after an SSH logout.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct LogindFacts {
  bool present = false;  ///< systemd-logind is installed
  /// Effective RemoveIPC; the compiled-in default (yes) when no file sets it.
  Result<bool> remove_ipc = Fail(ErrorKind::kNotFound, "not probed");
  std::string remove_ipc_source;  ///< "/etc/systemd/logind.conf:22" or "systemd default"
  std::string user;               ///< SUDO_USER, USER or LOGNAME
  std::optional<long long> uid;   ///< from /etc/passwd
  long long sys_uid_max = 999;    ///< /etc/login.defs SYS_UID_MAX (default 999)
  bool lingering = false;         ///< /var/lib/systemd/linger/<user> exists
};

LogindFacts ProbeLogind(const ProbeContext& ctx);

/// The last "RemoveIPC=" of a logind.conf text's [Login] section; nullopt when unset.
std::optional<bool> ParseRemoveIpc(std::string_view text, int* line_out = nullptr);

}  // namespace dlrig
