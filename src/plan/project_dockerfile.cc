// Dockerfiles: each stage's base image (ARG defaults substituted), ENV, and what RUN lines
// install with pip or conda, each token traced back to its physical line.
#include <fmt/format.h>

#include <map>

#include "plan/project_files.h"

namespace dlrig {

namespace {

struct Instruction {
  std::string keyword;  ///< upper case
  std::string args;     ///< the rest of the logical line
  size_t args_offset = 0;
  std::vector<std::pair<size_t, int>> lines;  ///< (offset in args, physical line) from there on
  int LineAt(size_t offset) const {
    int line = lines.empty() ? 0 : lines.front().second;
    for (const auto& [off, l] : lines)
      if (off <= offset) line = l;
    return line;
  }
};

std::vector<Instruction> Instructions(std::string_view text) {
  std::vector<Instruction> out;
  Instruction cur;
  bool open = false;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = NextLine(text, pos);
    ++number;
    std::string_view t = Trim(line);
    if (t.starts_with('#')) continue;  // comments, also inside a continued instruction
    if (!open) {
      if (t.empty()) continue;
      cur = Instruction{};
      size_t sp = t.find_first_of(" \t");
      for (char c : t.substr(0, sp))
        cur.keyword += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      t = sp == std::string_view::npos ? std::string_view() : Trim(t.substr(sp));
    }
    bool more = t.ends_with('\\');
    if (more) t.remove_suffix(1);
    cur.lines.emplace_back(cur.args.size(), number);
    cur.args.append(t);
    if (more) {
      cur.args += ' ';
      open = true;
      continue;
    }
    open = false;
    out.push_back(std::move(cur));
  }
  if (open) out.push_back(std::move(cur));
  return out;
}

std::string Substitute(std::string_view s, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    std::string name, fallback;
    if (s[i + 1] == '{') {
      size_t close = s.find('}', i);
      if (close == std::string_view::npos) {
        out += s.substr(i);
        break;
      }
      name = std::string(s.substr(i + 2, close - i - 2));
      if (size_t d = name.find(":-"); d != std::string::npos) {
        fallback = name.substr(d + 2);
        name.resize(d);
      }
      i = close;
    } else {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      name = std::string(s.substr(i + 1, j - i - 1));
      i = j - 1;
    }
    auto it = vars.find(name);
    out += it != vars.end() && !it->second.empty() ? it->second : fallback;
  }
  return out;
}

struct Token {
  std::string text;
  size_t offset = 0;
};

// Shell words with quotes removed; "&&", "||", ";" and "|" are words of their own.
std::vector<Token> Words(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    if (s[i] == ';' || s[i] == '|' || s[i] == '&') {
      size_t n = (i + 1 < s.size() && (s[i + 1] == '&' || s[i + 1] == '|')) ? 2 : 1;
      out.push_back({std::string(s.substr(i, n)), i});
      i += n;
      continue;
    }
    Token t{"", i};
    char quote = 0;
    while (i < s.size()) {
      char c = s[i];
      if (quote != 0) {
        if (c == quote)
          quote = 0;
        else
          t.text += c;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == ' ' || c == '\t' || c == ';' || c == '|' || c == '&') {
        break;
      } else {
        t.text += c;
      }
      ++i;
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool IsSeparator(const std::string& w) {
  return w == "&&" || w == "||" || w == ";" || w == "|" || w == "&";
}

bool IsPip(const std::string& w) {
  return w == "pip" || w == "pip3" || w.ends_with("/pip") || w.ends_with("/pip3") || w == "uv";
}
bool IsConda(const std::string& w) {
  return w == "conda" || w == "mamba" || w == "micromamba" || w.ends_with("/conda") ||
         w.ends_with("/mamba");
}

// pip options whose value is the next word.
bool PipOptionTakesValue(std::string_view o) {
  for (std::string_view v : {"-r",
                             "--requirement",
                             "-c",
                             "--constraint",
                             "-i",
                             "--index-url",
                             "--extra-index-url",
                             "-f",
                             "--find-links",
                             "--global-option",
                             "--config-settings",
                             "-C",
                             "-t",
                             "--target",
                             "--prefix",
                             "--root",
                             "--trusted-host",
                             "--python",
                             "-p",
                             "--channel",
                             "-n",
                             "--name",
                             "--cache-dir",
                             "--no-binary",
                             "--only-binary",
                             "--platform",
                             "--python-version"})
    if (o == v) return true;
  return false;
}

void ReadRun(const Instruction& ins, DockerStage& stage, const std::string& path) {
  std::vector<Token> words = Words(ins.args);
  std::string cwd;  // "cd apex" before "pip install ./": what "." is
  size_t i = 0;
  while (i < words.size()) {
    size_t end = i;
    while (end < words.size() && !IsSeparator(words[end].text)) ++end;
    // One simple command: words[i, end).
    size_t w = i;
    std::vector<EnvSetting> prefix;
    if (w < end && words[w].text == "export") ++w;
    while (w < end && words[w].text.find('=') != std::string::npos && words[w].text[0] != '-') {
      const std::string& a = words[w].text;
      int line = ins.LineAt(words[w].offset);
      prefix.push_back({a.substr(0, a.find('=')), a.substr(a.find('=') + 1), {path, line, ""}});
      ++w;
    }
    for (auto& e : prefix) stage.env.push_back(std::move(e));
    if (w + 1 < end && words[w].text == "cd") cwd = words[w + 1].text;
    bool conda = w < end && IsConda(words[w].text);
    bool pip = w < end && IsPip(words[w].text);
    size_t k = w + 1;
    if (w + 2 < end && (words[w].text.starts_with("python")) && words[w + 1].text == "-m" &&
        IsPip(words[w + 2].text)) {
      pip = true;
      k = w + 3;
    }
    if (pip && k < end && words[k].text == "pip") ++k;  // "uv pip install"
    if ((pip || conda) && k < end && words[k].text == "install") {
      std::vector<std::string> options;
      std::vector<PackageSpec> packages;
      for (size_t j = k + 1; j < end; ++j) {
        const std::string& a = words[j].text;
        int line = ins.LineAt(words[j].offset);
        Located at{path, line, ""};
        if (a.starts_with('-')) {
          std::string opt = a.substr(0, a.find('=')), value;
          if (a.find('=') != std::string::npos)
            value = a.substr(a.find('=') + 1);
          else if (PipOptionTakesValue(opt) && j + 1 < end)
            value = words[++j].text;
          if (opt == "-i" || opt == "--index-url" || opt == "--extra-index-url")
            stage.indexes.push_back({value, opt == "--extra-index-url", at});
          else if (opt == "--global-option" || opt == "--config-settings" || opt == "-C")
            options.push_back(opt + "=" + value);
          continue;
        }
        std::optional<PackageSpec> spec;
        if (conda) {
          spec = ParseCondaSpec(a, at);
        } else if ((a == "." || a == "./") && !cwd.empty()) {
          spec = ParsePipRequirement("./" + cwd, at);
        } else {
          spec = ParsePipRequirement(a, at);
        }
        if (spec) packages.push_back(std::move(*spec));
      }
      for (auto& p : packages) {
        p.options.insert(p.options.end(), options.begin(), options.end());
        stage.packages.push_back(std::move(p));
      }
    }
    i = end + 1;
  }
}

}  // namespace

Result<ProjectFacts> ParseDockerfile(std::string_view text, const std::string& path) {
  ProjectFacts facts;
  facts.kind = ProjectFileKind::kDockerfile;
  facts.path = path;
  std::map<std::string, std::string> vars;
  std::map<std::string, ImageRef> aliases;
  LineIndex lines(text);  // one shared copy of each line, however many facts it holds
  for (const Instruction& ins : Instructions(text)) {
    int line = ins.LineAt(0);
    if (ins.keyword == "ARG" || ins.keyword == "ENV") {
      // "ENV A=1 B=2", "ENV A 1", "ARG A=1", "ARG A"
      std::vector<Token> words = Words(ins.args);
      bool legacy =
          ins.keyword == "ENV" && !words.empty() && words[0].text.find('=') == std::string::npos;
      std::vector<std::pair<std::string, std::string>> pairs;
      if (legacy && words.size() >= 2) {
        std::string_view rest = Trim(std::string_view(ins.args).substr(words[1].offset));
        pairs.emplace_back(words[0].text, Unquote(rest));
      } else {
        for (const Token& w : words) {
          size_t eq = w.text.find('=');
          if (eq == std::string::npos) continue;
          pairs.emplace_back(w.text.substr(0, eq), w.text.substr(eq + 1));
        }
      }
      for (auto& [name, value] : pairs) {
        value = Substitute(value, vars);
        if (ins.keyword == "ENV" && !facts.stages.empty())
          facts.stages.back().env.push_back({name, value, {path, line, lines.At(line)}});
        if (ins.keyword == "ENV" || !vars.contains(name) || vars[name].empty()) vars[name] = value;
      }
      continue;
    }
    if (ins.keyword == "FROM") {
      std::vector<Token> words = Words(ins.args);
      size_t w = 0;
      while (w < words.size() && words[w].text.starts_with("--")) ++w;
      if (w >= words.size())
        return Fail(ErrorKind::kMalformed, fmt::format("{}:{}: FROM without an image", path, line));
      Located at{path, line, lines.At(line)};
      std::string image = Substitute(words[w].text, vars);
      DockerStage stage;
      auto alias = aliases.find(image);
      if (alias != aliases.end()) {
        stage.image = alias->second;  // FROM an earlier stage: its base image
        stage.image.at = at;
      } else {
        stage.image = ParseImageRef(image, at);
      }
      if (w + 2 < words.size()) {
        std::string as = words[w + 1].text;
        for (char& c : as) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (as == "AS") aliases[words[w + 2].text] = stage.image;
      }
      facts.stages.push_back(std::move(stage));
      continue;
    }
    if (ins.keyword == "RUN" && !facts.stages.empty()) {
      ReadRun(ins, facts.stages.back(), path);
      for (auto& p : facts.stages.back().packages)
        if (p.at.text.empty()) p.at.text = lines.At(p.at.line);
      for (auto& e : facts.stages.back().env)
        if (e.at.text.empty()) e.at.text = lines.At(e.at.line);
      for (auto& i : facts.stages.back().indexes)
        if (i.at.text.empty()) i.at.text = lines.At(i.at.line);
      continue;
    }
    if (facts.stages.empty() && ins.keyword != "ARG" && ins.keyword.size() > 0) {
      bool known = false;
      for (std::string_view k : {"FROM", "ARG"}) known = known || ins.keyword == k;
      if (!known)
        return Fail(ErrorKind::kMalformed,
                    fmt::format("{}:{}: not a Dockerfile: \"{}\" before any FROM", path, line,
                                ins.keyword.substr(0, std::min<size_t>(ins.keyword.size(), 40))));
    }
  }
  if (facts.stages.empty())
    return Fail(ErrorKind::kMalformed, fmt::format("{}: not a Dockerfile: no FROM", path));
  return facts;
}

}  // namespace dlrig
