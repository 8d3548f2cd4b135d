#include "knowledge/data_files.h"

#include <map>

#include "core/root.h"
#include "knowledge/embedded.h"

namespace dlrig {
namespace {

struct Override {
  std::string text;
  std::string path;
};

// Filled once by UseKnowledgeDir before anything reads a table.
std::map<std::string, Override, std::less<>>& Overrides() {
  static std::map<std::string, Override, std::less<>> overrides;
  return overrides;
}

}  // namespace

Result<void> UseKnowledgeDir(const std::string& dir) {
  auto root = Root::Open(dir);
  if (!root) return tl::unexpected(root.error());
  auto names = root->ListDir("/");
  if (!names) return tl::unexpected(names.error());
  std::map<std::string, Override, std::less<>> found;
  for (const auto& entry : *names) {
    const std::string& name = entry.name;
    if (!name.ends_with(".toml")) continue;
    if (!EmbeddedDataFile(name))
      return Fail(ErrorKind::kMalformed, dir + "/" + name + " is not a knowledge table dlrig knows");
    auto text = root->ReadFile("/" + name, 16u << 20);
    if (!text) return tl::unexpected(text.error());
    found[name] = Override{std::move(*text), dir + "/" + name};
  }
  if (found.empty()) return Fail(ErrorKind::kNotFound, dir + " holds no .toml knowledge table");
  Overrides() = std::move(found);
  return {};
}

std::optional<DataFile> FindDataFile(std::string_view name) {
  if (auto it = Overrides().find(name); it != Overrides().end())
    return DataFile{std::string(name), it->second.text, it->second.path};
  if (auto text = EmbeddedDataFile(name)) return DataFile{std::string(name), *text, "built in"};
  return std::nullopt;
}

Result<std::string_view> DataFileText(std::string_view name) {
  if (auto file = FindDataFile(name)) return file->text;
  return Fail(ErrorKind::kNotFound, std::string(name) + " is not a knowledge table");
}

std::vector<DataFile> DataFiles() {
  std::vector<DataFile> all;
  for (const auto& f : EmbeddedDataFiles())
    if (auto file = FindDataFile(f.name)) all.push_back(std::move(*file));
  return all;
}

}  // namespace dlrig
