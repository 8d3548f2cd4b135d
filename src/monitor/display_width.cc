#include "monitor/display_width.h"

#include <cstdint>

namespace dlrig {
namespace {

struct Decoded {
  uint32_t code = 0;
  int length = 1;      ///< bytes taken
  bool valid = false;  ///< false: one byte that is not UTF-8
};

Decoded Decode(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return {b, 1, true};
  int length = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
  if (length == 0 || i + length > text.size()) return {};
  uint32_t code = b & (0xFF >> (length + 1));
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {};
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  if (overlong || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return {};
  return {code, length, true};
}

// The ranges wcwidth() gives 2 (Unicode East Asian Wide / Fullwidth), the common ones.
bool IsWide(uint32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

bool IsCombining(uint32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B || c == 0x200D;
}

int Columns(const Decoded& d) {
  if (!d.valid) return 1;
  if (IsCombining(d.code)) return 0;
  return IsWide(d.code) ? 2 : 1;
}

}  // namespace

int DisplayWidth(std::string_view text) {
  int width = 0;
  for (size_t i = 0; i < text.size();) {
    Decoded d = Decode(text, i);
    width += Columns(d);
    i += d.length;
  }
  return width;
}

std::string FitWidth(std::string_view text, int columns) {
  int width = 0;
  size_t i = 0;
  while (i < text.size()) {
    Decoded d = Decode(text, i);
    if (width + Columns(d) > columns) break;
    width += Columns(d);
    i += d.length;
  }
  return std::string(text.substr(0, i));
}

std::string PadWidth(std::string_view text, int columns) {
  std::string out = FitWidth(text, columns);
  int width = DisplayWidth(out);
  if (width < columns) out.append(columns - width, ' ');
  return out;
}

std::string PrintableText(std::string_view text, bool utf8) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    Decoded d = Decode(text, i);
    bool control =
        d.valid && (d.code < 0x20 || d.code == 0x7F || (d.code >= 0x80 && d.code < 0xA0));
    if (!d.valid || control || (!utf8 && d.code >= 0x80))
      out += '?';
    else
      out.append(text.substr(i, d.length));
    i += d.length;
  }
  return out;
}

}  // namespace dlrig
