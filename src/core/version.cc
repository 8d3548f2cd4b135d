#include "core/version.h"

#include <cctype>

namespace dlrig {

std::optional<Version> Version::Parse(std::string_view text) {
  Version v;
  v.text = std::string(text);
  size_t i = 0;
  while (i < text.size() && text[i] == 'v') ++i;
  for (;;) {
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) break;
    long value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 10 + (text[i] - '0');
      if (value > 1000000000) return std::nullopt;
      ++i;
    }
    v.parts.push_back(static_cast<int>(value));
    if (i + 1 < text.size() && text[i] == '.' &&
        std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      ++i;
      continue;
    }
    break;
  }
  if (v.parts.empty()) return std::nullopt;
  v.suffix = std::string(text.substr(i));
  return v;
}

std::string Version::MajorMinor() const {
  return std::to_string(major()) + "." + std::to_string(minor());
}

std::strong_ordering Version::operator<=>(const Version& other) const {
  size_t n = std::max(parts.size(), other.parts.size());
  for (size_t i = 0; i < n; ++i) {
    int a = i < parts.size() ? parts[i] : 0;
    int b = i < other.parts.size() ? other.parts[i] : 0;
    if (a != b) return a <=> b;
  }
  return std::strong_ordering::equal;
}

std::string CudaVersionFromInt(int value) {
  return std::to_string(value / 1000) + "." + std::to_string((value % 1000) / 10);
}

}  // namespace dlrig
