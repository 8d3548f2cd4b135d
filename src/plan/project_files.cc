#include "plan/project_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "core/root.h"

namespace dlrig {

namespace {

constexpr const char* kKindNames[] = {"conda", "requirements", "pyproject", "dockerfile",
                                      "compose"};
// -r chains deeper than this are a loop or a mistake.
constexpr int kMaxIncludeDepth = 16;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsYamlName(std::string_view n) { return n.ends_with(".yml") || n.ends_with(".yaml"); }

std::optional<ProjectFileKind> KindFromName(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string name = Lower(slash == std::string_view::npos ? path : path.substr(slash + 1));
  if (name == "pyproject.toml") return ProjectFileKind::kPyproject;
  if (name == "dockerfile" || name == "containerfile" || name.starts_with("dockerfile.") ||
      name.ends_with(".dockerfile"))
    return ProjectFileKind::kDockerfile;
  if (IsYamlName(name) && (name.starts_with("docker-compose") || name.starts_with("compose")))
    return ProjectFileKind::kCompose;
  if (IsYamlName(name) &&
      (name.starts_with("environment") || name.starts_with("conda") || name.starts_with("env")))
    return ProjectFileKind::kConda;
  if ((name.ends_with(".txt") || name.ends_with(".in")) &&
      (name.find("requirement") != std::string::npos ||
       name.find("constraint") != std::string::npos))
    return ProjectFileKind::kRequirements;
  return std::nullopt;
}

std::optional<ProjectFileKind> KindFromContent(std::string_view text) {
  bool saw_requirement = false, saw_other = false;
  size_t pos = 0;
  while (pos <= text.size() && pos != std::string_view::npos) {
    size_t end = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, end == std::string_view::npos ? text.size() - pos : end - pos);
    pos = end == std::string_view::npos ? end : end + 1;
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (line.starts_with("services:")) return ProjectFileKind::kCompose;
    if (line.starts_with("dependencies:") || line.starts_with("channels:"))
      return ProjectFileKind::kConda;
    if (t == "[project]" || t == "[build-system]") return ProjectFileKind::kPyproject;
    std::string upper;
    for (char c : t.substr(0, 5))
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "FROM " || upper.starts_with("ARG ")) return ProjectFileKind::kDockerfile;
    if (t.starts_with("-r ") || t.starts_with("--index-url") ||
        t.starts_with("--extra-index-url") || ParsePipRequirement(t, {}))
      saw_requirement = true;
    else
      saw_other = true;
  }
  if (saw_requirement && !saw_other) return ProjectFileKind::kRequirements;
  return std::nullopt;
}

Result<ProjectFacts> ParseAs(ProjectFileKind kind, std::string_view text, const std::string& path) {
  switch (kind) {
    case ProjectFileKind::kConda:
      return ParseCondaEnvironment(text, path);
    case ProjectFileKind::kRequirements:
      return ParseRequirements(text, path);
    case ProjectFileKind::kPyproject:
      return ParsePyproject(text, path);
    case ProjectFileKind::kDockerfile:
      return ParseDockerfile(text, path);
    case ProjectFileKind::kCompose:
      return ParseCompose(text, path);
  }
  return Fail(ErrorKind::kUnsupported, path + ": unknown file kind");
}

Result<std::string> ReadHostFile(const std::string& path) {
  static const Result<Root> host = Root::Open("/");
  if (!host) return tl::unexpected(host.error());
  auto text = host->ReadFile(path);
  if (text) return text;
  std::string why = text.error().kind == ErrorKind::kNotFound       ? "no such file"
                    : text.error().kind == ErrorKind::kNoPermission ? "permission denied"
                                                                    : text.error().message;
  if (why.starts_with(path + ": ")) why.erase(0, path.size() + 2);  // Root names the path too
  return Fail(text.error().kind, fmt::format("cannot read {}: {}", path, why));
}

// Appends what the -r/-c files of `facts` ask for, read relative to the file that names them.
Result<void> ReadIncludes(ProjectFacts& facts, const std::string& dir, std::set<std::string>& seen,
                          int depth) {
  std::vector<std::string> includes = std::move(facts.includes);
  facts.includes.clear();
  for (const std::string& inc : includes) {
    std::string abs = inc.starts_with('/') ? NormalizePath(inc) : NormalizePath(dir + "/" + inc);
    if (depth >= kMaxIncludeDepth)
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{}: -r {} nests deeper than {}", facts.path, inc, kMaxIncludeDepth));
    if (!seen.insert(abs).second) continue;  // a cycle, or the same file twice
    auto text = ReadHostFile(abs);
    if (!text)
      return Fail(text.error().kind,
                  fmt::format("{} (included by {})", text.error().message, facts.path));
    // Named as the user would: relative to the including file as it was given.
    std::string shown =
        inc.starts_with('/')
            ? inc
            : (std::filesystem::path(facts.path).parent_path() / inc).lexically_normal().string();
    auto sub = ParseRequirements(*text, shown);
    if (!sub) return tl::unexpected(sub.error());
    if (auto r = ReadIncludes(*sub, DirName(abs), seen, depth + 1); !r) return r;
    for (auto& p : sub->packages) facts.packages.push_back(std::move(p));
    for (auto& i : sub->indexes) facts.indexes.push_back(std::move(i));
  }
  return {};
}

}  // namespace

const char* ProjectFileKindName(ProjectFileKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<ProjectFileKind> ParseProjectFileKind(std::string_view name) {
  for (int i = 0; i < 5; ++i)
    if (name == kKindNames[i]) return static_cast<ProjectFileKind>(i);
  return std::nullopt;
}

std::optional<ProjectFileKind> DetectProjectFileKind(std::string_view path, std::string_view text) {
  if (auto kind = KindFromName(path)) return kind;
  return KindFromContent(text);
}

std::string NormalizePackageName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (out.empty() || out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

ImageRef ParseImageRef(std::string_view text, const Located& at) {
  ImageRef ref;
  ref.at = at;
  std::string_view s = Trim(text);
  if (size_t digest = s.find('@'); digest != std::string_view::npos) s = s.substr(0, digest);
  // A ':' after the last '/' separates the tag; one before it is a registry port.
  size_t slash = s.rfind('/');
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.name = std::string(s.substr(0, colon));
    ref.tag = std::string(s.substr(colon + 1));
  } else {
    ref.name = std::string(s);
  }
  if (ref.name.starts_with("docker.io/")) ref.name.erase(0, 10);
  if (ref.name.starts_with("library/")) ref.name.erase(0, 8);
  return ref;
}

Result<ProjectFacts> LoadProjectFile(const std::string& path, std::optional<ProjectFileKind> kind) {
  std::error_code ec;
  std::string abs = path.starts_with('/') ? path : std::filesystem::absolute(path, ec).string();
  if (ec) return Fail(ErrorKind::kIo, fmt::format("cannot read {}: {}", path, ec.message()));
  auto text = ReadHostFile(abs);
  if (!text)
    return Fail(text.error().kind,
                fmt::format("cannot read {}: {}", path,
                            text.error().message.substr(text.error().message.find(": ") + 2)));
  if (!kind) kind = DetectProjectFileKind(path, *text);
  if (!kind)
    return Fail(ErrorKind::kMalformed,
                fmt::format("{}: cannot tell what kind of file this is; name it with --type "
                            "conda|requirements|pyproject|dockerfile|compose",
                            path));
  auto facts = ParseAs(*kind, *text, path);
  if (!facts) return facts;
  std::set<std::string> seen{NormalizePath(abs)};
  if (auto r = ReadIncludes(*facts, DirName(NormalizePath(abs)), seen, 0); !r)
    return tl::unexpected(r.error());
  return facts;
}

}  // namespace dlrig
