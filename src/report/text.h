// Human report writer: sections per layer, aligned key/value lines, colour only on a
// terminal and never when NO_COLOR is set.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace dlrig {

enum class Colour { kNone, kGreen, kYellow, kRed, kDim, kBold };

class TextWriter {
 public:
  explicit TextWriter(bool colour) : colour_(colour) {}
  /// Starts a layer section ("hardware", "kernel driver", ...).
  void Section(std::string_view title);
  /// "  key  value" with the key padded.
  void Item(std::string_view key, std::string_view value, Colour colour = Colour::kNone);
  /// A fact that could not be read: "  key  unknown (no_permission: ...)".
  void Unknown(std::string_view key, const Error& error);
  /// An indented sub-line under the previous item.
  void Detail(std::string_view text, Colour colour = Colour::kDim);
  void Line(std::string_view text, Colour colour = Colour::kNone);
  std::string Paint(std::string_view text, Colour colour) const;
  template <class T, class F>
  void Fact(std::string_view key, const Result<T>& fact, F format) {
    if (fact) Item(key, format(*fact));
    else Unknown(key, fact.error());
  }
  const std::string& str() const { return out_; }

 private:
  bool colour_;
  std::string out_;
};

/// True when colour should be used on stdout (a terminal, NO_COLOR unset, TERM not dumb).
bool StdoutWantsColour();

}  // namespace dlrig
