// The knowledge base (data/*.toml) compiled into the binary.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace dlrig {

struct EmbeddedFile {
  const char* name;  ///< "wheel-layouts.toml"
  const char* text;
};

/// Every data/*.toml, sorted by name.
std::span<const EmbeddedFile> EmbeddedDataFiles();

/// The text of data/<name>, or nullopt.
inline std::optional<std::string_view> EmbeddedDataFile(std::string_view name) {
  for (const auto& f : EmbeddedDataFiles())
    if (name == f.name) return std::string_view(f.text);
  return std::nullopt;
}

}  // namespace dlrig
