// pyproject.toml (PEP 621): [project] dependencies and optional-dependencies, requires-python,
// and uv's [[tool.uv.index]] (how uv projects point torch at download.pytorch.org).
#include <fmt/format.h>

#include "core/toml.h"
#include "plan/project_files.h"

namespace dlrig {

namespace {

Located At(const toml::node& node, LineIndex& lines, const std::string& path) {
  int line = static_cast<int>(node.source().begin.line);
  return Located{path, line, lines.At(line)};
}

Result<void> AddDependencies(const toml::array& deps, LineIndex& lines,
                             const std::string& path, ProjectFacts& facts) {
  for (const toml::node& d : deps) {
    Located at = At(d, lines, path);
    auto s = d.value<std::string>();
    if (!s)
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{}:{}: a dependency that is not a string", path, at.line));
    auto spec = ParsePipRequirement(*s, at);
    if (!spec)
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{}:{}: not a PEP 508 requirement: {}", path, at.line, *s));
    facts.packages.push_back(std::move(*spec));
  }
  return {};
}

// toml++ 3.3.0 (Debian 12) assumes, rather than checks, that a table header's key starts with a
// key character: "[# x" or "[`" is undefined behaviour in a release build (found by fuzzing
// this reader; toml++'s parse_key TOML_ASSERT_ASSUME). Such headers are refused before toml++
// sees them. A header is a line starting with '[' outside any open array, table or string.
bool IsKeyStart(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '"' ||
         c == '\'';
}

std::string HeaderProblem(std::string_view text, const std::string& path) {
  int depth = 0, number = 0;
  std::string_view multi;  // the """ or ''' of an open multi-line string
  for (const std::string& raw : SplitLines(text)) {
    ++number;
    std::string_view line = raw;
    if (multi.empty() && depth == 0 && Trim(line).starts_with('[')) {
      std::string_view key = Trim(line);
      key.remove_prefix(key.starts_with("[[") ? 2 : 1);
      // Only TOML's whitespace: a lone CR is no whitespace to toml++ either.
      while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) key.remove_prefix(1);
      if (key.empty() || !IsKeyStart(key.front()))
        return fmt::format("{}:{}: a table header without a key", path, number);
      continue;
    }
    for (size_t i = 0; i < line.size(); ++i) {
      if (!multi.empty()) {
        size_t end = line.find(multi, i);
        if (end == std::string_view::npos) break;
        i = end + 2;
        multi = {};
        continue;
      }
      char c = line[i];
      if (c == '#') break;
      if (c == '"' || c == '\'') {
        std::string_view triple = c == '"' ? "\"\"\"" : "'''";
        if (line.substr(i, 3) == triple) {
          multi = triple;
          i += 2;
          continue;
        }
        for (++i; i < line.size() && line[i] != c; ++i)
          if (c == '"' && line[i] == '\\') ++i;
        continue;
      }
      if (c == '[' || c == '{') ++depth;
      if ((c == ']' || c == '}') && depth > 0) --depth;
    }
  }
  return "";
}

}  // namespace

Result<ProjectFacts> ParsePyproject(std::string_view text, const std::string& path) {
  if (std::string problem = HeaderProblem(text, path); !problem.empty())
    return Fail(ErrorKind::kMalformed, problem);
  auto doc = ParseToml(text, path);
  LineIndex lines(text);  // one shared copy of each line, however many dependencies it holds
  if (!doc) return tl::unexpected(doc.error());
  ProjectFacts facts;
  facts.kind = ProjectFileKind::kPyproject;
  facts.path = path;
  const toml::table* project = (*doc)["project"].as_table();
  if (project != nullptr) {
    if (const toml::array* deps = (*project)["dependencies"].as_array())
      if (auto r = AddDependencies(*deps, lines, path, facts); !r) return tl::unexpected(r.error());
    if (const toml::table* optional = (*project)["optional-dependencies"].as_table())
      for (const auto& [group, deps] : *optional)
        if (const toml::array* list = deps.as_array())
          if (auto r = AddDependencies(*list, lines, path, facts); !r)
            return tl::unexpected(r.error());
    if (const toml::node* rp = project->get("requires-python"); rp != nullptr && rp->is_string()) {
      PackageSpec python;
      python.name = "python";
      python.manager = "pip";
      python.spec = *rp->value<std::string>();
      python.at = At(*rp, lines, path);
      facts.python = python;
    }
  }
  if (const toml::array* indexes = (*doc)["tool"]["uv"]["index"].as_array())
    for (const toml::node& i : *indexes)
      if (const toml::table* t = i.as_table())
        if (const toml::node* url = t->get("url"); url != nullptr && url->is_string())
          facts.indexes.push_back(
              {*url->value<std::string>(), !(*t)["default"].value_or(false), At(*url, lines, path)});
  return facts;
}

}  // namespace dlrig
