#include "report/text.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dlrig {
namespace {
constexpr size_t kKeyWidth = 22;

const char* Code(Colour colour) {
  switch (colour) {
    case Colour::kGreen: return "\033[32m";
    case Colour::kYellow: return "\033[33m";
    case Colour::kRed: return "\033[31m";
    case Colour::kDim: return "\033[2m";
    case Colour::kBold: return "\033[1m";
    case Colour::kNone: return "";
  }
  return "";
}
}  // namespace

std::string TextWriter::Paint(std::string_view text, Colour colour) const {
  if (!colour_ || colour == Colour::kNone) return std::string(text);
  return std::string(Code(colour)) + std::string(text) + "\033[0m";
}

void TextWriter::Section(std::string_view title) {
  if (!out_.empty()) out_ += '\n';
  out_ += Paint(title, Colour::kBold) + '\n';
}

void TextWriter::Item(std::string_view key, std::string_view value, Colour colour) {
  std::string padded(key);
  if (padded.size() < kKeyWidth) padded.resize(kKeyWidth, ' ');
  else padded += ' ';
  out_ += "  " + padded + Paint(value, colour) + '\n';
}

void TextWriter::Unknown(std::string_view key, const Error& error) {
  Item(key, std::string("unknown (") + ErrorKindName(error.kind) + ": " + error.message + ")",
       Colour::kYellow);
}

void TextWriter::Detail(std::string_view text, Colour colour) {
  out_ += std::string(kKeyWidth + 4, ' ') + Paint(text, colour) + '\n';
}

void TextWriter::Line(std::string_view text, Colour colour) {
  out_ += "  " + Paint(text, colour) + '\n';
}

bool StdoutWantsColour() {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && no_colour[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return ::isatty(1) == 1;
}

}  // namespace dlrig
