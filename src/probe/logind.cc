#include "probe/logind.h"

#include <algorithm>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr size_t kMaxConfBytes = 256 * 1024;

std::optional<bool> Boolean(std::string_view value) {
  std::string v = ToLower(Trim(value));
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  return std::nullopt;
}

}  // namespace

std::optional<bool> ParseRemoveIpc(std::string_view text, int* line_out) {
  std::optional<bool> value;
  bool in_login = true;  // keys before any section header count, as systemd reads them
  int n = 0;
  for (const std::string& raw : SplitLines(text)) {
    ++n;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      in_login = line == "[Login]";
      continue;
    }
    if (!in_login || !StartsWith(line, "RemoveIPC")) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || Trim(line.substr(0, eq)) != "RemoveIPC") continue;
    if (auto b = Boolean(line.substr(eq + 1))) {
      value = b;
      if (line_out) *line_out = n;
    }
  }
  return value;
}

LogindFacts ProbeLogind(const ProbeContext& ctx) {
  const Root& root = ctx.root;
  LogindFacts f;
  f.present = root.Exists("/usr/lib/systemd/systemd-logind") ||
              root.Exists("/lib/systemd/systemd-logind");
  if (!f.present) {
    f.remove_ipc = Fail(ErrorKind::kNotFound, "systemd-logind is not installed");
    return f;
  }
  // The main file, then drop-ins in name order across the three directories (later wins).
  f.remove_ipc = true;
  f.remove_ipc_source = "systemd default (RemoveIPC=yes)";
  std::vector<std::pair<std::string, std::string>> dropins;  // file name, path
  for (const char* dir : {"/usr/lib/systemd/logind.conf.d", "/run/systemd/logind.conf.d",
                          "/etc/systemd/logind.conf.d"})
    if (auto entries = root.ListDir(dir))
      for (const DirEntry& e : *entries)
        if (EndsWith(e.name, ".conf")) dropins.emplace_back(e.name, std::string(dir) + "/" + e.name);
  std::stable_sort(dropins.begin(), dropins.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> files = {"/etc/systemd/logind.conf"};
  for (const auto& d : dropins) files.push_back(d.second);
  for (const std::string& file : files) {
    auto text = root.ReadFile(file, kMaxConfBytes);
    if (!text) {
      if (text.error().kind != ErrorKind::kNotFound) f.remove_ipc = tl::unexpected(text.error());
      continue;
    }
    int line = 0;
    if (auto v = ParseRemoveIpc(*text, &line)) {
      f.remove_ipc = *v;
      f.remove_ipc_source = file + ":" + std::to_string(line);
    }
  }

  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"})
    if (auto u = ctx.env.Get(var); u && !u->empty()) {
      f.user = *u;
      break;
    }
  if (f.user.empty()) return f;
  if (auto passwd = root.ReadFile("/etc/passwd", 4u << 20))
    for (const std::string& line : SplitLines(*passwd)) {
      auto fields = Split(line, ':', true);
      if (fields.size() > 2 && fields[0] == f.user) f.uid = ParseInt(fields[2]);
    }
  if (auto defs = root.ReadFile("/etc/login.defs", kMaxConfBytes))
    for (const std::string& raw : SplitLines(*defs)) {
      std::string_view line = Trim(raw);
      if (!StartsWith(line, "SYS_UID_MAX")) continue;
      if (auto n = ParseInt(Trim(line.substr(11)))) f.sys_uid_max = *n;
    }
  f.lingering = root.Exists("/var/lib/systemd/linger/" + f.user);
  return f;
}

}  // namespace dlrig
