// How many terminal columns UTF-8 text takes, and cutting it to a width, without the locale:
// top's frame must be measured the same way in tests and on any machine.
#pragma once

#include <string>
#include <string_view>

namespace dlrig {

/// Columns `text` takes on a terminal: East Asian wide characters 2, combining marks 0,
/// everything else 1. Bytes that are not valid UTF-8 count 1 each.
int DisplayWidth(std::string_view text);

/// The longest prefix of `text` that fits in `columns`, never splitting a character.
std::string FitWidth(std::string_view text, int columns);

/// `text` cut to `columns` and padded with spaces to exactly that width.
std::string PadWidth(std::string_view text, int columns);

/// Text from outside (a command line, a user name) made safe to print: control characters and
/// invalid UTF-8 become '?', and with `utf8` false every non-ASCII character does too.
std::string PrintableText(std::string_view text, bool utf8);

}  // namespace dlrig
