#include "core/toml.h"

#include <string>

namespace dlrig {

void ThrowTomlCheckFailed(const char* check) {
  throw TomlCheckFailed(std::string("toml++ cannot parse this text (its check `") + check +
                        "` failed)");
}

namespace {

bool IsKeyStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '"' || c == '\'';
}

// The index of the last character of the string that starts at text[i] (a quote), counting
// the lines it spans; a one-line string ends at the end of its line.
size_t StringEnd(std::string_view text, size_t i, size_t& line) {
  char quote = text[i];
  bool basic = quote == '"';
  bool multi = text.substr(i, 3) == std::string(3, quote);
  size_t j = i + (multi ? 3 : 1);
  for (; j < text.size(); ++j) {
    char c = text[j];
    if (basic && c == '\\') {
      if (j + 1 < text.size() && text[j + 1] == '\n') ++line;
      ++j;
    } else if (c == '\n') {
      if (!multi) return j - 1;
      ++line;
    } else if (c == quote && (!multi || text.substr(j, 3) == std::string(3, quote))) {
      return multi ? j + 2 : j;
    }
  }
  return text.size();
}

// Two places where toml++ 3.3.0 calls a parser without checking its precondition (an
// assertion failure with assertions on, found by our fuzzer once they were):
// - a table header's name that starts with neither a key character nor a quote (`[[[`,
//   `[ #`, a `[` alone on a line): parse_key. A header is a `[` first on a line, outside
//   strings, comments and values.
// - an array element that starts with `}` (`a = [}`, `a = [1, }]`): parse_value.
std::string StructureProblem(std::string_view text) {
  size_t line = 1;
  std::string open;  // the brackets of values open here: '[' arrays, '{' inline tables
  bool line_start = true, in_header = false, element_next = false;
  auto problem = [&](const char* what) { return "line " + std::to_string(line) + ": " + what; };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = true;
      in_header = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') continue;
    bool first = line_start;
    line_start = false;
    if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (in_header) {
      if (c == '"' || c == '\'') i = StringEnd(text, i, line);
      continue;
    }
    if (c == '}' && element_next) return problem("an array element cannot start with '}'");
    element_next = false;
    if (c == '"' || c == '\'') {
      i = StringEnd(text, i, line);
    } else if (c == '[' && first && open.empty()) {
      size_t j = i + 1;
      if (j < text.size() && text[j] == '[') ++j;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
      if (j < text.size() && text[j] != ']' && !IsKeyStart(text[j]))
        return problem(
            "a table header's name must start with a letter, digit, '_', '-' or a quote");
      in_header = true;
    } else if (c == '[' || c == '{') {
      open.push_back(c);
      element_next = c == '[';
    } else if ((c == ']' || c == '}') && !open.empty()) {
      open.pop_back();
    } else if (c == ',' && !open.empty() && open.back() == '[') {
      element_next = true;
    }
  }
  return "";
}

}  // namespace

// toml++ 3.3.0 reaches __builtin_unreachable when its whitespace test meets certain non-ASCII
// characters, and it meets them in several places (values, error paths), so only plain ASCII
// text goes in: no byte >= 0x80 and no control character but tab, CR and LF.
std::string TomlInputProblem(std::string_view text) {
  size_t line = 1;
  for (unsigned char c : text) {
    if (c == '\n') ++line;
    if (c >= 0x80) return "line " + std::to_string(line) + ": non-ASCII byte (not accepted)";
    if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
      return "line " + std::to_string(line) + ": control character";
  }
  return StructureProblem(text);
}

Result<toml::table> ParseToml(std::string_view text, std::string_view what) {
  if (std::string problem = TomlInputProblem(text); !problem.empty())
    return Fail(ErrorKind::kMalformed, std::string(what) + ": " + problem);
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorKind::kMalformed, std::string(what) + ": " + std::string(e.description()));
  } catch (const TomlCheckFailed& e) {
    return Fail(ErrorKind::kMalformed, std::string(what) + ": " + e.what());
  }
}

}  // namespace dlrig
