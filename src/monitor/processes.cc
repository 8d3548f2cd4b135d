#include "monitor/processes.h"

#include <pwd.h>

#include <array>
#include <cctype>

#include "core/strings.h"

namespace dlrig {
namespace {

bool IsHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string UserName(long long uid) {
  struct passwd pw, *found = nullptr;
  std::array<char, 4096> buf;
  if (::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found) == 0 && found)
    return found->pw_name;
  return std::to_string(uid);
}

}  // namespace

std::string ContainerIdFromCgroup(std::string_view cgroup) {
  for (const std::string& line : SplitLines(cgroup)) {
    // "0::/system.slice/docker-<id>.scope", "12:memory:/docker/<id>", ".../cri-containerd-<id>.scope"
    for (const std::string& part : Split(line, '/')) {
      std::string_view p = part;
      if (p.ends_with(".scope")) p.remove_suffix(6);
      if (size_t dash = p.rfind('-'); dash != std::string_view::npos && !IsHex64(p))
        p = p.substr(dash + 1);
      if (IsHex64(p)) return std::string(p.substr(0, 12));
    }
  }
  return "";
}

std::string CommandLine(std::string_view cmdline, size_t max) {
  std::string out;
  for (char c : cmdline.substr(0, max)) out += c == '\0' ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string ProgramName(std::string_view cmdline) {
  std::string_view first = cmdline.substr(0, cmdline.find_first_of(std::string_view(" \t\n\0", 4)));
  size_t slash = first.rfind('/');
  return std::string(slash == std::string_view::npos ? first : first.substr(slash + 1));
}

void DescribeProcesses(const Root& root, std::vector<GpuProcess>& processes, CommandDetail detail) {
  for (GpuProcess& p : processes) {
    std::string dir = "/proc/" + std::to_string(p.pid);
    if (auto status = root.ReadFile(dir + "/status", 64 << 10)) {
      for (const std::string& line : SplitLines(*status)) {
        if (!line.starts_with("Uid:")) continue;
        auto ids = Split(Trim(std::string_view(line).substr(4)), '\t');
        if (!ids.empty())
          if (auto uid = ParseInt(Trim(ids[0]))) p.user = UserName(*uid);
      }
    }
    if (auto cmdline = root.ReadFile(dir + "/cmdline", 4096))
      p.command = detail == CommandDetail::kFullCommandLine ? CommandLine(*cmdline)
                                                            : ProgramName(*cmdline);
    if (auto cgroup = root.ReadFile(dir + "/cgroup", 64 << 10))
      p.container = ContainerIdFromCgroup(*cgroup);
  }
}

}  // namespace dlrig
