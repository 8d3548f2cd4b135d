// Pure parsers of the python probe: dist-info names, generated version files, and
// data/wheel-layouts.toml. No I/O.
#include "core/strings.h"
#include "core/toml.h"
#include "probe/python.h"

namespace dlrig {
namespace {

// A quoted Python string literal at the start of `text` ('x' or "x"), without escapes.
std::optional<std::string> QuotedAt(std::string_view text) {
  if (text.empty() || (text[0] != '\'' && text[0] != '"')) return std::nullopt;
  size_t end = text.find(text[0], 1);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(text.substr(1, end - 1));
}

// The value after '=' or ':' — a string, or "" for None; other literals verbatim.
std::optional<std::string> LiteralAt(std::string_view text) {
  text = Trim(text);
  if (auto q = QuotedAt(text)) return q;
  if (StartsWith(text, "None")) return std::string();
  size_t end = text.find_first_of(",)}# \t");
  std::string_view word = text.substr(0, end);
  if (word.empty()) return std::nullopt;
  return std::string(word);
}

std::vector<std::string> StringArray(const toml::table& row, const char* key) {
  std::vector<std::string> out;
  if (const toml::array* a = row[key].as_array())
    for (const toml::node& n : *a)
      if (auto s = n.value<std::string>()) out.push_back(*s);
  return out;
}

WheelLayout LayoutRow(const toml::table& row) {
  WheelLayout l;
  l.framework = row["framework"].value_or(std::string());
  l.cuda_major = static_cast<int>(row["cuda_major"].value_or(int64_t{0}));
  std::string kind = row["kind"].value_or(std::string());
  l.preload = kind == "preload";
  l.rpath = kind == "rpath";
  l.importer = row["importer"].value_or(std::string());
  l.needed = StringArray(row, "needed");
  l.runpath = StringArray(row, "runpath");
  l.source = row["source"].value_or(std::string());
  return l;
}

}  // namespace

std::string NormalizeDistName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep && !out.empty() && out.back() == '-') continue;
    out.push_back(sep ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::optional<PythonDist> ParseDistInfoName(std::string_view dir_name) {
  std::string_view stem;
  if (EndsWith(dir_name, ".dist-info"))
    stem = dir_name.substr(0, dir_name.size() - 10);
  else if (EndsWith(dir_name, ".egg-info"))
    stem = dir_name.substr(0, dir_name.size() - 9);
  else
    return std::nullopt;
  size_t dash = stem.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= stem.size()) return std::nullopt;
  std::string_view version = stem.substr(dash + 1);
  size_t py = version.find("-py");  // egg-info: name-1.0-py3.12
  if (py != std::string_view::npos) version = version.substr(0, py);
  return PythonDist{NormalizeDistName(stem.substr(0, dash)), std::string(version), "",
                    std::string(dir_name), {}};
}

const PythonDist* FindDist(const PythonEnv& env, std::string_view name) {
  if (!env.dists) return nullptr;
  for (const PythonDist& d : *env.dists)
    if (d.name == name) return &d;
  return nullptr;
}

std::vector<DistRequirement> ParseRequiresDist(std::string_view metadata) {
  std::vector<DistRequirement> out;
  for (const std::string& raw : SplitLines(metadata)) {
    std::string_view line = raw;
    if (Trim(line).empty()) break;  // end of the headers; the description follows
    if (!StartsWith(line, "Requires-Dist:")) continue;
    line = Trim(line.substr(14));
    DistRequirement req;
    if (size_t semi = line.find(';'); semi != std::string_view::npos) {
      req.marker = std::string(Trim(line.substr(semi + 1)));
      line = Trim(line.substr(0, semi));
    }
    size_t name_end = line.find_first_of(" ([<>=!~");
    req.name = NormalizeDistName(line.substr(0, name_end));
    if (req.name.empty()) continue;
    std::string spec;  // "(==2.5.1)" (old style) or "==2.5.1"; extras "[x]" dropped
    for (char c : line.substr(std::min(name_end, line.size())))
      if (c != ' ' && c != '(' && c != ')') spec += c;
    if (!spec.empty() && spec[0] == '[') spec = spec.substr(std::min(spec.find(']') + 1, spec.size()));
    if (StartsWith(spec, "==") && spec.find(',') == std::string::npos && spec.find('*') == std::string::npos)
      req.exact = spec.substr(2);
    out.push_back(std::move(req));
  }
  return out;
}

bool MarkerHoldsOnLinux(std::string_view marker, std::string_view machine) {
  // Clauses joined by "and" must all hold; an "or" anywhere: assume it holds (rare in pins).
  if (marker.find(" or ") != std::string_view::npos) return true;
  size_t at = 0;
  while (at <= marker.size()) {
    size_t next = marker.find(" and ", at);
    std::string_view clause = Trim(marker.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    while (!clause.empty() && clause.front() == '(') clause = Trim(clause.substr(1));
    while (!clause.empty() && clause.back() == ')') clause = Trim(clause.substr(0, clause.size() - 1));
    bool negated = clause.find("!=") != std::string_view::npos;
    size_t op = clause.find(negated ? "!=" : "==");
    if (op != std::string_view::npos) {
      std::string_view key = Trim(clause.substr(0, op));
      std::string value = Unquote(Trim(clause.substr(op + 2)));
      std::optional<bool> equal;
      if (key == "platform_system") equal = value == "Linux";
      else if (key == "sys_platform") equal = value == "linux";
      else if (key == "platform_machine") equal = value == machine;
      else if (key == "extra") equal = false, negated = false;
      if (equal && *equal == negated) return false;
    }
    if (next == std::string_view::npos) break;
    at = next + 5;
  }
  return true;
}

std::optional<std::string> FindPythonAssignment(std::string_view text, std::string_view name) {
  for (const std::string& raw : SplitLines(text)) {
    std::string_view line = Trim(raw);
    if (!StartsWith(line, name) || line.size() == name.size()) continue;
    char next = line[name.size()];
    if (next != ' ' && next != ':' && next != '=') continue;
    size_t eq = line.find('=', name.size());
    if (eq == std::string_view::npos || (eq + 1 < line.size() && line[eq + 1] == '=')) continue;
    if (auto v = LiteralAt(line.substr(eq + 1))) return v;
  }
  return std::nullopt;
}

std::optional<std::string> FindDictString(std::string_view text, std::string_view key) {
  for (char quote : {'\'', '"'}) {
    std::string needle(1, quote);
    needle.append(key);
    needle.push_back(quote);
    size_t at = text.find(needle);
    if (at == std::string_view::npos) continue;
    std::string_view rest = Trim(text.substr(at + needle.size()));
    if (rest.empty() || (rest[0] != ':' && rest[0] != ',')) continue;
    return LiteralAt(rest.substr(1));
  }
  return std::nullopt;
}

Result<WheelLayouts> ParseWheelLayouts(std::string_view text) {
  auto parsed = ParseToml(text, "wheel-layouts.toml");
  if (!parsed) return tl::unexpected(parsed.error());
  const toml::table& doc = *parsed;
  WheelLayouts out;
  if (const toml::array* rows = doc["layout"].as_array())
    for (const toml::node& n : *rows)
      if (const toml::table* row = n.as_table()) out.layouts.push_back(LayoutRow(*row));
  if (const toml::array* rows = doc["library"].as_array())
    for (const toml::node& n : *rows)
      if (const toml::table* row = n.as_table())
        out.libraries.push_back(
            {(*row)["prefix"].value_or(std::string()), StringArray(*row, "wheels")});
  return out;
}

}  // namespace dlrig
