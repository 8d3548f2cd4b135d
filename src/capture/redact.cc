#include "capture/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace dlrig {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsTokenChar(char c) { return IsNameChar(c) || c == '-'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
/// Where an unquoted shell word ends.
bool EndsWord(char c) {
  return IsBlank(c) || c == ';' || c == '&' || c == '|' || c == ')' || c == '`' || c == '\r' ||
         c == '\n' || c == '\'' || c == '"';
}

std::string Upper(std::string_view name) {
  std::string out;
  for (char c : name)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

/// [begin, end) of the value starting at `pos`: a quoted string's inside, or one word.
std::pair<size_t, size_t> ValueAt(std::string_view line, size_t pos) {
  if (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) {
    size_t close = line.find(line[pos], pos + 1);
    return {pos + 1, close == std::string_view::npos ? line.size() : close};
  }
  size_t end = pos;
  while (end < line.size() && !EndsWord(line[end])) ++end;
  return {pos, end};
}

struct Span {
  size_t begin, end;
};

/// Replaces the spans (sorted, possibly overlapping) of `line` by kRedacted.
std::string Apply(std::string_view line, std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end(), [](Span a, Span b) { return a.begin < b.begin; });
  std::string out;
  size_t at = 0;
  for (Span s : spans) {
    if (s.end <= s.begin || s.end <= at) continue;
    size_t begin = std::max(s.begin, at);
    out.append(line.substr(at, begin - at));
    out += kRedacted;
    at = s.end;
  }
  out.append(line.substr(at));
  return out;
}

constexpr std::array<std::string_view, 11> kTokenPrefixes = {
    "hf_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "sk-", "glpat-", "AKIA", "xox"};

/// Token-shaped values and URL passwords in `line`.
void ValueSpans(std::string_view line, std::vector<Span>& spans) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (i > 0 && IsTokenChar(line[i - 1])) continue;  // a prefix starts a word
    for (std::string_view prefix : kTokenPrefixes) {
      if (line.substr(i, prefix.size()) != prefix) continue;
      size_t j = i + prefix.size();
      if (prefix == "xox") {  // xoxb-, xoxp-, xoxa-, xoxr-, xoxs-
        if (j + 1 >= line.size() || line[j + 1] != '-') continue;
        j += 2;
      }
      size_t end = j;
      while (end < line.size() && IsTokenChar(line[end])) ++end;
      if (end - j >= 16) spans.push_back({i, end});
      break;
    }
  }
  // scheme://user:password@host
  for (size_t at = line.find("://"); at != std::string_view::npos; at = line.find("://", at + 3)) {
    size_t start = at + 3, end = start;
    while (end < line.size() && !EndsWord(line[end]) && line[end] != '/' && line[end] != '@' &&
           line[end] != '"' && line[end] != '\'')
      ++end;
    if (end >= line.size() || line[end] != '@') continue;
    size_t colon = line.find(':', start);
    if (colon != std::string_view::npos && colon < end) spans.push_back({colon + 1, end});
  }
}

/// Values of assignments and options whose name looks secret.
void NameSpans(std::string_view line, std::vector<Span>& spans) {
  // NAME=value and --name=value (also inside "export", "declare -x", "env", "docker run -e").
  for (size_t eq = line.find('='); eq != std::string_view::npos; eq = line.find('=', eq + 1)) {
    size_t start = eq;
    while (start > 0 && IsTokenChar(line[start - 1])) --start;
    std::string_view name = line.substr(start, eq - start);
    while (!name.empty() && name.front() == '-') name.remove_prefix(1);
    if (name.empty() || !IsSecretName(name)) continue;
    auto [b, e] = ValueAt(line, eq + 1);
    spans.push_back({b, e});
  }
  // "setenv NAME value", "set -gx NAME value", "--name value": words split at blanks, quotes
  // around a word (an alias's body) ignored when comparing.
  std::vector<Span> words;
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    size_t end = i;
    while (end < line.size() && !IsBlank(line[end])) ++end;
    if (end > i) words.push_back({i, end});
    i = end;
  }
  auto word = [&](size_t k) {
    std::string_view w = line.substr(words[k].begin, words[k].end - words[k].begin);
    while (!w.empty() && (w.front() == '\'' || w.front() == '"')) w.remove_prefix(1);
    while (!w.empty() && (w.back() == '\'' || w.back() == '"' || w.back() == ';'))
      w.remove_suffix(1);
    return w;
  };
  for (size_t k = 0; k + 1 < words.size(); ++k) {
    std::string_view w = word(k);
    if (w.find('=') != std::string_view::npos) continue;  // NAME=value: done above
    bool option = w.size() > 2 && w.substr(0, 2) == "--" && IsSecretName(w.substr(2));
    bool named = k >= 1 && IsSecretName(w) &&
                 (word(k - 1) == "setenv" ||
                  (k >= 2 && word(k - 1).starts_with("-") && word(k - 2) == "set"));
    if (!option && !named) continue;
    if (word(k + 1).empty() || word(k + 1)[0] == '-') continue;  // another option, not a value
    auto [b, e] = ValueAt(line, words[k + 1].begin);
    spans.push_back({b, e});
  }
}

template <class Fn>
std::string EachLine(std::string_view text, Fn fn) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::vector<Span> spans;
    fn(text.substr(pos, end - pos), spans);
    out += spans.empty() ? std::string(text.substr(pos, end - pos))
                         : Apply(text.substr(pos, end - pos), std::move(spans));
    if (nl == std::string_view::npos) break;
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

}  // namespace

bool IsSecretName(std::string_view name) {
  std::string n = Upper(name);
  if (n.empty()) return false;
  for (std::string_view keep : {"CUDA_", "NVIDIA_", "NCCL_", "CONDA_", "LD_"})
    if (n.compare(0, keep.size(), keep) == 0) return false;
  if (n == "PATH") return false;
  for (std::string_view word : {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "KEY",
                                "AUTH", "CREDENTIAL", "PRIVATE"})
    if (n.find(word) != std::string::npos) return true;
  return false;
}

std::string RedactShellSecrets(std::string_view text) {
  return EachLine(text, [](std::string_view line, std::vector<Span>& spans) {
    NameSpans(line, spans);
    ValueSpans(line, spans);
  });
}

std::string RedactSecretValues(std::string_view text) {
  return EachLine(text,
                  [](std::string_view line, std::vector<Span>& spans) { ValueSpans(line, spans); });
}

}  // namespace dlrig
