#include "probe/path_search.h"

#include <algorithm>

namespace dlrig {

std::vector<std::string> FindAllOnPath(const ProbeContext& ctx, const std::string& name) {
  std::vector<std::string> found;
  auto dirs = ctx.env.GetList("PATH");
  if (dirs.empty()) dirs = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};
  for (auto& dir : dirs) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string path = JoinPath(dir, name);
    auto info = ctx.root.Stat(path);
    if (!info || info->type != FileType::kRegular) continue;
    if (ctx.root.IsHost() && (info->mode & 0111) == 0) continue;
    if (std::find(found.begin(), found.end(), path) == found.end()) found.push_back(path);
  }
  return found;
}

std::optional<std::string> FindOnPath(const ProbeContext& ctx, const std::string& name) {
  auto all = FindAllOnPath(ctx, name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

}  // namespace dlrig
