#include "core/toml.h"

#include <string>

namespace dlrig {
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
  return "";
}

Result<toml::table> ParseToml(std::string_view text, std::string_view what) {
  if (std::string problem = TomlInputProblem(text); !problem.empty())
    return Fail(ErrorKind::kMalformed, std::string(what) + ": " + problem);
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorKind::kMalformed, std::string(what) + ": " + std::string(e.description()));
  }
}

}  // namespace dlrig
