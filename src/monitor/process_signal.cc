#include "monitor/process_signal.h"

#include <fmt/format.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/root.h"
#include "core/strings.h"

namespace dlrig {
namespace {

std::string UserName(uid_t uid) {
  struct passwd entry {};
  struct passwd* found = nullptr;
  char buffer[1024];
  if (getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) return found->pw_name;
  return fmt::format("uid {}", uid);
}

}  // namespace

Result<uid_t> ProcessOwner(std::string_view status_text) {
  for (const std::string& line : SplitLines(status_text)) {
    if (!StartsWith(line, "Uid:")) continue;
    auto fields = Split(std::string_view(line).substr(4), '\t');
    if (fields.empty()) break;
    if (auto uid = ParseInt(Trim(fields[0])); uid && *uid >= 0) return static_cast<uid_t>(*uid);
    break;
  }
  return Fail(ErrorKind::kMalformed, "no Uid: line in /proc/<pid>/status");
}

Result<void> MaySignal(uid_t owner, uid_t me, long long pid) {
  if (me == 0 || owner == me) return {};
  return Fail(ErrorKind::kNoPermission,
              fmt::format("pid {} belongs to {}: only its owner or root may signal it", pid,
                          UserName(owner)));
}

Result<void> SignalProcess(long long pid, int signal) {
  if (pid <= 1) return Fail(ErrorKind::kNoPermission, fmt::format("will not signal pid {}", pid));
  // The real machine's /proc, never a --root: this acts on the machine.
  auto root = Root::Open("/");
  if (!root) return tl::unexpected(root.error());
  auto text = root->ReadFile(fmt::format("/proc/{}/status", pid));
  if (!text && text.error().kind == ErrorKind::kNotFound)
    return Fail(ErrorKind::kNotFound, fmt::format("pid {} has exited", pid));
  if (!text) return tl::unexpected(text.error());
  auto owner = ProcessOwner(*text);
  if (!owner) return tl::unexpected(owner.error());
  if (auto ok = MaySignal(*owner, getuid(), pid); !ok) return ok;
  if (::kill(static_cast<pid_t>(pid), signal) == 0) return {};
  int err = errno;
  if (err == ESRCH) return Fail(ErrorKind::kNotFound, fmt::format("pid {} has exited", pid));
  return Fail(ErrorKindFromErrno(err),
              fmt::format("kill({}, {}): {}", pid, SignalName(signal), std::strerror(err)));
}

std::string SignalName(int signal) {
  switch (signal) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGSTOP:
      return "SIGSTOP";
    case SIGCONT:
      return "SIGCONT";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
  }
  return fmt::format("signal {}", signal);
}

}  // namespace dlrig
