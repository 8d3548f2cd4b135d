// Dotted version numbers as NVIDIA and Python packages write them ("580.159.04", "12.8",
// "2.11.0+cu130", "9.19.0.56"). Numeric components compare numerically; a local or
// pre-release suffix is kept verbatim and ignored by comparison.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlrig {

struct Version {
  std::vector<int> parts;  ///< numeric components, at least one
  std::string suffix;      ///< anything after them ("+cu130", "rc1"), verbatim
  std::string text;        ///< the original text

  static std::optional<Version> Parse(std::string_view text);
  int major() const { return parts.empty() ? 0 : parts[0]; }
  int minor() const { return parts.size() > 1 ? parts[1] : 0; }
  /// "X.Y" from the first two components.
  std::string MajorMinor() const;
  /// Compares numeric parts; missing trailing parts count as 0.
  std::strong_ordering operator<=>(const Version& other) const;
  bool operator==(const Version& other) const { return (*this <=> other) == 0; }
};

/// CUDA's integer encoding (12080 -> "12.8", 13000 -> "13.0").
std::string CudaVersionFromInt(int value);

}  // namespace dlrig
