// Small text helpers shared by the parsers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlrig {

std::string_view Trim(std::string_view text);
std::vector<std::string> Split(std::string_view text, char sep, bool keep_empty = false);
std::vector<std::string> SplitLines(std::string_view text);
bool StartsWith(std::string_view text, std::string_view prefix);
bool EndsWith(std::string_view text, std::string_view suffix);
bool Contains(std::string_view text, std::string_view needle);
std::string ToLower(std::string_view text);

/// Text made safe inside HTML or XML (SVG): & < > " ' escaped, control characters other than
/// tab and newline dropped (XML forbids them).
std::string MarkupEscape(std::string_view text);
/// Parses a decimal or 0x-prefixed integer; nullopt on any junk.
std::optional<long long> ParseInt(std::string_view text);
/// `"x"` or `'x'` -> `x` (surrounding blanks dropped); anything else is returned trimmed.
std::string Unquote(std::string_view text);
/// `KEY=value` / `KEY="value"` lines (os-release, pyvenv.cfg with '=' separators).
std::vector<std::pair<std::string, std::string>> ParseKeyValues(std::string_view text, char sep = '=');
/// Value of `key` in such a list, or nullopt.
std::optional<std::string> Lookup(const std::vector<std::pair<std::string, std::string>>& kv,
                                  std::string_view key);
/// "1.5 GiB" style, binary units.
std::string HumanBytes(unsigned long long bytes);

}  // namespace dlrig
