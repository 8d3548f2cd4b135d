// The one place dlrig turns a JSON document into text (every --json, /api/v1/gpus, capture's
// doctor.json, bench's stored runs). It never throws: nlohmann's dump() throws type_error.316 on
// a string that is not UTF-8, and every string dlrig reports (a path, an os-release field, a
// library name, a process's command) is bytes from the machine.
//
// The convention (docs/doctor-json.md, "Bytes that are not UTF-8"): in a string that is not
// valid UTF-8 each byte that is not part of a valid sequence becomes U+FFFD, so every JSON
// parser reads the document; and when the document is an object, a top-level member
//   "invalid_utf8": [{"pointer": "/shell/path/2/dir", "hex": "2f6f70742fff2f6c6962"}, ...]
// lists each such string by its JSON pointer (RFC 6901, written with the replaced text) with
// its original bytes in hex, so nothing is lost ("key_hex" instead of "hex" when the string is
// an object key). Documents that are all UTF-8 have no such member.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace dlrig {

/// The document as text (indent as nlohmann's dump(): -1 compact, else spaces per level),
/// invalid bytes replaced and listed as above. Never throws.
std::string DumpJson(const nlohmann::ordered_json& doc, int indent = 2);
std::string DumpJson(const nlohmann::json& doc, int indent = 2);

/// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
/// above U+10FFFF). Pure.
bool IsValidUtf8(std::string_view text);
/// `text` with each byte that does not belong to a well-formed sequence replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view text);
/// Lower-case hex of every byte ("ff2f").
std::string HexBytes(std::string_view bytes);

}  // namespace dlrig
