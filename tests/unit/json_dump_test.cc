// DumpJson: any byte string in, valid JSON out, the invalid bytes replaced and listed.
#include "core/json_dump.h"

#include <gtest/gtest.h>

namespace dlrig {
namespace {

using ojson = nlohmann::ordered_json;

TEST(Utf8, WellFormedSequencesOnly) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain /usr/lib"));
  EXPECT_TRUE(IsValidUtf8("tr\xC3\xA1in \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("/opt/\xFF/lib"));
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));           // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // cut short
}

TEST(Utf8, EachBadByteBecomesOneReplacementCharacter) {
  EXPECT_EQ(ReplaceInvalidUtf8("/opt/\xFF/lib"), "/opt/\xEF\xBF\xBD/lib");
  EXPECT_EQ(ReplaceInvalidUtf8("\xE2\x82"
                               "a"),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(ReplaceInvalidUtf8("\xC3\xA1"), "\xC3\xA1");
  EXPECT_EQ(HexBytes("/\xFF"), "2fff");
}

// The reproducer: nlohmann's dump() throws type_error.316 on one such byte, which ended every
// --json with exit 70 and nothing on stdout.
TEST(DumpJson, NeverThrowsAndListsTheOriginalBytes) {
  ojson doc = {
      {"schema", "dlrig.doctor/1"},
      {"shell", {{"path", ojson::array({{{"dir", "/usr/bin"}}, {{"dir", "/opt/\xFF/lib"}}})}}},
      {"os", {{"name", "caf\xE9"}}}};
  EXPECT_THROW((void)doc.dump(2), nlohmann::json::type_error);
  std::string text;
  ASSERT_NO_THROW(text = DumpJson(doc));
  ojson back = ojson::parse(text);  // a strict parser reads it
  EXPECT_EQ(back["shell"]["path"][1]["dir"], "/opt/\xEF\xBF\xBD/lib");
  EXPECT_EQ(back["os"]["name"], "caf\xEF\xBF\xBD");
  ASSERT_EQ(back["invalid_utf8"].size(), 2u);
  EXPECT_EQ(back["invalid_utf8"][0]["pointer"], "/shell/path/1/dir");
  EXPECT_EQ(back["invalid_utf8"][0]["hex"], "2f6f70742fff2f6c6962");
  EXPECT_EQ(back["invalid_utf8"][1]["pointer"], "/os/name");
  EXPECT_EQ(back["invalid_utf8"][1]["hex"], "636166e9");
  // The pointer finds the string it describes.
  EXPECT_EQ(back.at(ojson::json_pointer("/shell/path/1/dir")), "/opt/\xEF\xBF\xBD/lib");
}

TEST(DumpJson, KeysToo) {
  nlohmann::json doc = {{"params", {{"lib\xFF", 1}, {"a/b", {{"x\xFE", "ok"}}}}}};
  nlohmann::json back = nlohmann::json::parse(DumpJson(doc, -1));
  EXPECT_EQ(back["params"]["lib\xEF\xBF\xBD"], 1);
  bool found_nested = false;
  for (const auto& e : back["invalid_utf8"]) {
    if (e["pointer"] == "/params/a~1b/x\xEF\xBF\xBD") {
      found_nested = true;
      EXPECT_EQ(e["key_hex"], "78fe");
    }
  }
  EXPECT_TRUE(found_nested) << back.dump();
}

TEST(DumpJson, ValidDocumentsAreUnchanged) {
  ojson doc = {{"schema", "dlrig.gpus/1"}, {"name", "tr\xC3\xA1in"}, {"n", 3}};
  EXPECT_EQ(DumpJson(doc), doc.dump(2));
  EXPECT_EQ(DumpJson(doc, -1), doc.dump());
}

}  // namespace
}  // namespace dlrig
