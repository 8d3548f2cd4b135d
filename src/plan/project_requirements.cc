// pip requirements files (pip's "Requirements File Format"): one requirement or option a line,
// "\" continues a line, "#" after whitespace starts a comment, -r/-c include other files.
#include <fmt/format.h>

#include "plan/project_files.h"

namespace dlrig {

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool IsUrlLike(std::string_view s) {
  for (std::string_view p :
       {"git+", "hg+", "svn+", "bzr+", "http://", "https://", "file:", "./", "../", "/"})
    if (s.starts_with(p)) return true;
  return s == ".";
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The name (and for a wheel, the version) a URL or path requirement installs.
void NameFromUrl(PackageSpec& spec) {
  std::string_view url = spec.url;
  if (size_t egg = url.find("#egg="); egg != std::string_view::npos) {
    std::string_view name = url.substr(egg + 5);
    name = name.substr(0, name.find('&'));
    spec.name = NormalizePackageName(name);
  }
  std::string_view path = url.substr(0, url.find('#'));
  while (path.ends_with('/')) path.remove_suffix(1);
  std::string last = PercentDecode(path.substr(path.rfind('/') + 1));
  if (last.ends_with(".whl")) {
    // name-version(-build)?-python-abi-platform.whl (the binary distribution format)
    size_t dash = last.find('-');
    size_t dash2 = dash == std::string::npos ? dash : last.find('-', dash + 1);
    if (dash2 != std::string::npos) {
      spec.name = NormalizePackageName(last.substr(0, dash));
      spec.version = Version::Parse(last.substr(dash + 1, dash2 - dash - 1));
      spec.spec = "==" + last.substr(dash + 1, dash2 - dash - 1);
    }
    spec.from_source = false;
    return;
  }
  spec.from_source = true;
  if (!spec.name.empty()) return;
  if (size_t at = last.find('@'); at != std::string::npos) last.resize(at);  // "apex.git@ref"
  if (last.ends_with(".git")) last.resize(last.size() - 4);
  if (!last.empty() && last != "." && last != "..") spec.name = NormalizePackageName(last);
}

// "==2.1.0+cu121", "==2.1.*", "===2.1.0": the one release allowed; ranges give nothing.
std::optional<Version> PinnedRelease(std::string_view spec) {
  std::string s;
  for (char c : spec)
    if (c != ' ' && c != '(' && c != ')') s += c;
  if (s.find(',') != std::string::npos) return std::nullopt;
  if (s.starts_with("==="))
    s.erase(0, 3);
  else if (s.starts_with("=="))
    s.erase(0, 2);
  else
    return std::nullopt;
  if (s.ends_with(".*")) s.resize(s.size() - 2);
  if (s.find('*') != std::string::npos) return std::nullopt;
  return Version::Parse(s);
}

}  // namespace

std::optional<PackageSpec> ParsePipRequirement(std::string_view text, const Located& at) {
  PackageSpec spec;
  spec.manager = "pip";
  spec.at = at;
  std::string_view s = Trim(text);
  // Per-requirement options follow the requirement: "apex --config-settings=...".
  if (size_t opt = s.find(" --"); opt != std::string_view::npos) {
    std::string_view rest = s.substr(opt + 1);
    s = Trim(s.substr(0, opt));
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t end = rest.find(" --", pos);
      spec.options.emplace_back(
          Trim(rest.substr(pos, end == std::string_view::npos ? end : end - pos)));
      pos = end == std::string_view::npos ? rest.size() : end + 1;
    }
  }
  if (s.empty()) return std::nullopt;
  if (IsUrlLike(s)) {
    size_t marker = s.find(" ;");
    if (marker == std::string_view::npos) marker = s.find("; ");
    if (marker != std::string_view::npos) {
      spec.marker = std::string(Trim(s.substr(marker + 1).substr(s[marker] == ' ' ? 1 : 0)));
      s = Trim(s.substr(0, marker));
    }
    spec.url = std::string(s);
    NameFromUrl(spec);
    if (spec.name.empty()) return std::nullopt;
    return spec;
  }
  size_t n = 0;
  while (n < s.size() && IsNameChar(s[n])) ++n;
  if (n == 0 || !std::isalnum(static_cast<unsigned char>(s[0]))) return std::nullopt;
  spec.name = NormalizePackageName(s.substr(0, n));
  std::string_view rest = Trim(s.substr(n));
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view list = rest.substr(1, close - 1);
    size_t pos = 0;
    while (pos < list.size()) {
      size_t comma = list.find(',', pos);
      std::string_view e =
          Trim(list.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
      if (!e.empty()) spec.extras.push_back(NormalizePackageName(e));
      pos = comma == std::string_view::npos ? list.size() : comma + 1;
    }
    rest = Trim(rest.substr(close + 1));
  }
  if (rest.starts_with('@')) {
    std::string_view url = Trim(rest.substr(1));
    if (size_t marker = url.find(" ;"); marker != std::string_view::npos) {
      spec.marker = std::string(Trim(url.substr(marker + 2)));
      url = Trim(url.substr(0, marker));
    }
    spec.url = std::string(url);
    std::string name = spec.name;
    NameFromUrl(spec);
    spec.name = name;
    return spec;
  }
  if (size_t marker = rest.find(';'); marker != std::string_view::npos) {
    spec.marker = std::string(Trim(rest.substr(marker + 1)));
    rest = Trim(rest.substr(0, marker));
  }
  if (!rest.empty()) {
    std::string_view r = rest.starts_with('(') ? rest.substr(1) : rest;
    bool op = false;
    for (std::string_view o : {"==", ">=", "<=", "!=", "~=", "<", ">"}) op = op || r.starts_with(o);
    if (!op) return std::nullopt;
  }
  spec.spec = std::string(rest);
  spec.version = PinnedRelease(rest);
  return spec;
}

Result<void> AddRequirementLine(std::string_view t, const Located& at, ProjectFacts& facts) {
  if (t.starts_with('-')) {
    size_t split = t.find_first_of(" \t=");
    std::string_view opt = t.substr(0, split), value;
    if (split != std::string_view::npos) value = Trim(t.substr(split + 1));
    if (opt == "-r" || opt == "--requirement" || opt == "-c" || opt == "--constraint") {
      if (value.empty())
        return Fail(ErrorKind::kMalformed,
                    fmt::format("{}:{}: {} needs a file", at.file, at.line, opt));
      facts.includes.emplace_back(value);
    } else if (opt == "-i" || opt == "--index-url" || opt == "--extra-index-url") {
      facts.indexes.push_back({std::string(value), opt == "--extra-index-url", at});
    } else if (opt == "-f" || opt == "--find-links") {
      facts.indexes.push_back({std::string(value), true, at});
    } else if (opt == "-e" || opt == "--editable") {
      if (auto spec = ParsePipRequirement(value, at)) {
        spec->from_source = true;
        facts.packages.push_back(std::move(*spec));
      }
    }
    // Other options (--pre, --no-binary, --trusted-host, ...) change nothing dlrig checks.
    return {};
  }
  auto spec = ParsePipRequirement(t, at);
  if (!spec)
    return Fail(ErrorKind::kMalformed,
                fmt::format("{}:{}: not a requirement pip can read: {}", at.file, at.line,
                            t.substr(0, std::min<size_t>(t.size(), 80))));
  facts.packages.push_back(std::move(*spec));
  return {};
}

std::string LineOf(std::string_view text, int number) {
  size_t pos = 0;
  for (int i = 1; i < number; ++i) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return "";
    ++pos;
  }
  size_t end = text.find('\n', pos);
  return std::string(
      Trim(text.substr(pos, end == std::string_view::npos ? text.size() - pos : end - pos)));
}

LineIndex::LineIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (size_t nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n', nl + 1))
    starts_.push_back(nl + 1);
}

LineText LineIndex::At(int number) {
  if (number < 1 || static_cast<size_t>(number) > starts_.size()) return LineText();
  auto it = made_.find(number);
  if (it != made_.end()) return it->second;
  size_t begin = starts_[static_cast<size_t>(number - 1)];
  size_t end = static_cast<size_t>(number) < starts_.size() ? starts_[static_cast<size_t>(number)] - 1
                                                            : text_.size();
  return made_.emplace(number, LineText(std::string(Trim(text_.substr(begin, end - begin)))))
      .first->second;
}

Result<ProjectFacts> ParseRequirements(std::string_view text, const std::string& path) {
  ProjectFacts facts;
  facts.kind = ProjectFileKind::kRequirements;
  facts.path = path;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    // One logical line: physical lines joined where they end in a backslash.
    std::string logical;
    int first = number + 1;
    for (;;) {
      std::string_view line = NextLine(text, pos);
      ++number;
      if (line.ends_with('\\') && pos < text.size()) {
        logical.append(line.substr(0, line.size() - 1));
        continue;
      }
      logical.append(line);
      break;
    }
    // "#" starts a comment at the line's start or after whitespace (a URL's "#egg=" stays).
    for (size_t i = 0; i < logical.size(); ++i)
      if (logical[i] == '#' && (i == 0 || logical[i - 1] == ' ' || logical[i - 1] == '\t')) {
        logical.resize(i);
        break;
      }
    std::string_view t = Trim(logical);
    if (t.empty()) continue;
    if (t.find('\0') != std::string_view::npos)
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{}:{}: a NUL byte: not a text file", path, first));
    if (auto r = AddRequirementLine(t, Located{path, first, std::string(t)}, facts); !r)
      return tl::unexpected(r.error());
  }
  return facts;
}

}  // namespace dlrig
