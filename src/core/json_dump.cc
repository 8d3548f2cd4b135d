#include "core/json_dump.h"

#include <exception>

namespace dlrig {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// Length of the well-formed UTF-8 sequence at text[i], or 0 when there is none.
size_t SequenceAt(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;  // overlong
    if (b == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;  // overlong
    if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

std::string PointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

template <class J>
bool HasInvalid(const J& j) {
  if (j.is_string()) return !IsValidUtf8(j.template get_ref<const std::string&>());
  if (j.is_array()) {
    for (const J& v : j)
      if (HasInvalid(v)) return true;
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!IsValidUtf8(it.key()) || HasInvalid(it.value())) return true;
  }
  return false;
}

/// Replaces invalid bytes in place, appending {pointer, hex|key_hex} to `found`.
template <class J>
void Repair(J& j, const std::string& pointer, J& found) {
  if (j.is_string()) {
    std::string& s = j.template get_ref<std::string&>();
    if (IsValidUtf8(s)) return;
    found.push_back(J{{"pointer", pointer}, {"hex", HexBytes(s)}});
    s = ReplaceInvalidUtf8(s);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Repair(j[i], pointer + "/" + std::to_string(i), found);
  } else if (j.is_object()) {
    J out = J::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = it.key();
      if (!IsValidUtf8(key)) {
        std::string hex = HexBytes(key);
        key = ReplaceInvalidUtf8(key);
        while (out.contains(key)) key += kReplacement;  // two keys that differ only in bad bytes
        found.push_back(J{{"pointer", pointer + "/" + PointerToken(key)}, {"key_hex", hex}});
      }
      J value = std::move(it.value());
      Repair(value, pointer + "/" + PointerToken(key), found);
      out[key] = std::move(value);
    }
    j = std::move(out);
  }
}

template <class J>
std::string Dump(const J& doc, int indent) {
  try {
    if (!HasInvalid(doc)) return doc.dump(indent);
    J copy = doc;
    J found = J::array();
    Repair(copy, "", found);
    if (copy.is_object()) copy["invalid_utf8"] = std::move(found);
    return copy.dump(indent, ' ', false, J::error_handler_t::replace);
  } catch (const std::exception& e) {
    // Not reached with the repair above; kept so that no document can end a command.
    J fallback = {
        {"error", std::string("dlrig could not write this document as JSON: ") + e.what()}};
    return fallback.dump(indent, ' ', false, J::error_handler_t::replace);
  }
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = SequenceAt(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ReplaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = SequenceAt(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string HexBytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string DumpJson(const nlohmann::ordered_json& doc, int indent) { return Dump(doc, indent); }
std::string DumpJson(const nlohmann::json& doc, int indent) { return Dump(doc, indent); }

}  // namespace dlrig
