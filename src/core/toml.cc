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

// toml++ 3.3.0 parses a table header's name without checking its first character: `[[[`,
// `[ #` or a `[` alone on a line break parse_key's precondition (an assertion failure with
// assertions on). A header is a `[` first on a line, outside strings, comments and arrays.
std::string HeaderProblem(std::string_view text) {
  size_t line = 1;
  int depth = 0;  // open array brackets of values
  bool line_start = true, in_header = false;
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
    } else if (c == '"' || c == '\'') {
      i = StringEnd(text, i, line);
    } else if (c == '[' && first && depth == 0) {
      size_t j = i + 1;
      if (j < text.size() && text[j] == '[') ++j;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
      if (j < text.size() && text[j] != ']' && !IsKeyStart(text[j]))
        return "line " + std::to_string(line) +
               ": a table header's name must start with a letter, digit, '_', '-' or a quote";
      in_header = true;
    } else if (!in_header && c == '[') {
      ++depth;
    } else if (!in_header && c == ']' && depth > 0) {
      --depth;
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
  return HeaderProblem(text);
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
