// conda environment files (`conda env create -f environment.yml`): channels, dependencies as
// match specs, and a `pip:` sublist that conda hands to pip as a requirements file.
#include <fmt/format.h>

#include "core/yaml.h"
#include "plan/project_files.h"

namespace dlrig {

namespace {

bool IsVersionChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '*' || c == '+' ||
         c == '_' || c == '!';
}

// "2.1" / "2.1.*" / "2.1.0": one release; ranges and alternatives ("2.1|2.2") give nothing.
std::optional<Version> ReleaseOf(std::string_view v) {
  for (char c : v)
    if (!IsVersionChar(c)) return std::nullopt;
  std::string s(v);
  if (s.ends_with(".*")) s.resize(s.size() - 2);
  if (s.ends_with('*') || s.find('*') != std::string::npos) return std::nullopt;
  return Version::Parse(s);
}

}  // namespace

std::optional<PackageSpec> ParseCondaSpec(std::string_view text, const Located& at) {
  PackageSpec spec;
  spec.manager = "conda";
  spec.at = at;
  std::string_view s = Trim(text);
  if (size_t ch = s.find("::"); ch != std::string_view::npos) {
    spec.channel = std::string(s.substr(0, ch));
    s = s.substr(ch + 2);
  }
  size_t n = 0;
  while (n < s.size() && s[n] != ' ' && s[n] != '=' && s[n] != '<' && s[n] != '>' && s[n] != '!' &&
         s[n] != '~' && s[n] != '[')
    ++n;
  if (n == 0) return std::nullopt;
  for (char c : s.substr(0, n))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return std::nullopt;
  spec.name = NormalizePackageName(s.substr(0, n));
  std::string_view rest = Trim(s.substr(n));
  spec.spec = std::string(rest);
  if (rest.starts_with('[')) return spec;  // bracket form: nothing pinned dlrig reads
  std::string_view version, build;
  if (rest.starts_with("==")) {
    version = rest.substr(2);
  } else if (rest.starts_with('=')) {
    version = rest.substr(1);
  } else if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {
    version = rest;  // "pytorch 2.1.0 py3.10_cuda12.1_cudnn8_0"
  } else {
    return spec;
  }
  size_t sep = version.find_first_of("= ");
  if (sep != std::string_view::npos) {
    build = Trim(version.substr(sep + 1));
    version = version.substr(0, sep);
  }
  spec.version = ReleaseOf(version);
  spec.build = std::string(build);
  return spec;
}

Result<ProjectFacts> ParseCondaEnvironment(std::string_view text, const std::string& path) {
  auto doc = ParseYaml(text, path);
  if (!doc) return tl::unexpected(doc.error());
  ProjectFacts facts;
  facts.kind = ProjectFileKind::kConda;
  facts.path = path;
  const YamlNode* deps = doc->IsMapping() ? doc->Get("dependencies") : nullptr;
  if (deps == nullptr || !deps->IsSequence())
    return Fail(ErrorKind::kMalformed,
                fmt::format("{}:{}: not a conda environment: no \"dependencies:\" list", path,
                            doc->line > 0 ? doc->line : 1));
  if (const YamlNode* channels = doc->Get("channels");
      channels != nullptr && channels->IsSequence())
    for (const YamlNode& c : channels->items)
      if (c.IsScalar()) facts.channels.push_back(c.scalar);
  LineIndex lines(text);  // one shared copy of each line: "dependencies: [a, b, ...]" is one
  for (const YamlNode& item : deps->items) {
    Located at{path, item.line, lines.At(item.line)};
    if (item.IsScalar()) {
      auto spec = ParseCondaSpec(item.scalar, at);
      if (!spec)
        return Fail(ErrorKind::kMalformed, fmt::format("{}:{}: not a conda package spec: {}", path,
                                                       item.line, item.scalar));
      if (spec->name == "python")
        facts.python = *spec;
      else
        facts.packages.push_back(std::move(*spec));
      continue;
    }
    const YamlNode* pip = item.IsMapping() ? item.Get("pip") : nullptr;
    if (pip == nullptr || !pip->IsSequence())
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{}:{}: a dependency that is neither a package spec nor a pip: list",
                              path, item.line));
    for (const YamlNode& p : pip->items) {
      if (!p.IsScalar())
        return Fail(ErrorKind::kMalformed,
                    fmt::format("{}:{}: a pip: entry that is not a string", path, p.line));
      if (auto r = AddRequirementLine(Trim(p.scalar), Located{path, p.line, lines.At(p.line)},
                                      facts);
          !r)
        return tl::unexpected(r.error());
    }
  }
  return facts;
}

}  // namespace dlrig
