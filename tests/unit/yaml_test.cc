#include "core/yaml.h"

#include <gtest/gtest.h>

namespace dlrig {
namespace {

TEST(Yaml, NodesKeepTheirLines) {
  auto doc = ParseYaml(
      "name: env\nchannels:\n  - pytorch\n  - nvidia\ndependencies:\n  - python=3.10\n"
      "  - pip:\n      - torch==2.1.0\n",
      "environment.yml");
  ASSERT_TRUE(doc) << doc.error().message;
  ASSERT_TRUE(doc->IsMapping());
  EXPECT_EQ(doc->Get("name")->scalar, "env");
  const YamlNode* channels = doc->Get("channels");
  ASSERT_TRUE(channels && channels->IsSequence());
  ASSERT_EQ(channels->items.size(), 2u);
  EXPECT_EQ(channels->items[1].scalar, "nvidia");
  EXPECT_EQ(channels->items[1].line, 4);
  const YamlNode* deps = doc->Get("dependencies");
  ASSERT_EQ(deps->items.size(), 2u);
  EXPECT_EQ(deps->items[0].line, 6);
  const YamlNode* pip = deps->items[1].Get("pip");
  ASSERT_TRUE(pip && pip->IsSequence());
  EXPECT_EQ(pip->items[0].scalar, "torch==2.1.0");
  EXPECT_EQ(pip->items[0].line, 8);
  EXPECT_EQ(doc->entries[2].key, "dependencies");
  EXPECT_EQ(doc->entries[2].line, 5);
}

TEST(Yaml, NullsAndQuotedStrings) {
  auto doc = ParseYaml("a:\nb: ~\nc: \"null\"\nd: [gpu, 'utility']\n", "x.yml");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->Get("a")->kind, YamlNode::Kind::kNull);
  EXPECT_EQ(doc->Get("b")->kind, YamlNode::Kind::kNull);
  EXPECT_EQ(doc->Get("c")->kind, YamlNode::Kind::kScalar);
  EXPECT_EQ(doc->Get("c")->scalar, "null");
  ASSERT_EQ(doc->Get("d")->items.size(), 2u);
  EXPECT_EQ(doc->Get("d")->items[1].scalar, "utility");
  EXPECT_EQ(doc->Get("missing"), nullptr);
}

TEST(Yaml, AnchorsAliasesAndMergeKeys) {
  auto doc = ParseYaml(
      "x-gpu: &gpu\n  runtime: nvidia\n  ipc: host\n"
      "services:\n  a:\n    <<: *gpu\n    ipc: private\n    image: img\n",
      "compose.yml");
  ASSERT_TRUE(doc) << doc.error().message;
  const YamlNode* a = doc->Get("services")->Get("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->Get("runtime")->scalar, "nvidia");
  EXPECT_EQ(a->Get("ipc")->scalar, "private");  // the service's own key wins over the merged one
  EXPECT_EQ(a->Get("image")->scalar, "img");
  EXPECT_EQ(a->Get("runtime")->line, 2);  // a merged node keeps where it was written
}

TEST(Yaml, EmptyDocumentIsNull) {
  auto doc = ParseYaml("", "empty.yml");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->kind, YamlNode::Kind::kNull);
  auto comment = ParseYaml("# only a comment\n", "c.yml");
  ASSERT_TRUE(comment);
  EXPECT_EQ(comment->kind, YamlNode::Kind::kNull);
}

TEST(Yaml, MalformedNamesFileAndLine) {
  auto doc = ParseYaml("dependencies:\n  - python=3.10\n  - [unclosed\n", "environment.yml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(doc.error().message.rfind("environment.yml:", 0), 0u) << doc.error().message;
  auto tabs = ParseYaml("a:\n\t- b\n", "tabs.yml");
  ASSERT_FALSE(tabs);
  EXPECT_NE(tabs.error().message.find("tabs.yml:2:"), std::string::npos) << tabs.error().message;
  auto alias = ParseYaml("a: *nowhere\n", "alias.yml");
  ASSERT_FALSE(alias);
}

TEST(Yaml, AliasBombIsRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
  }
  auto doc = ParseYaml(bomb, "bomb.yml");  // 10^9 nodes if expanded
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("aliases"), std::string::npos) << doc.error().message;
}

TEST(Yaml, DeepNestingIsRefused) {
  auto doc = ParseYaml(std::string(10000, '[') + std::string(10000, ']'), "deep.yml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().kind, ErrorKind::kMalformed);
}

}  // namespace
}  // namespace dlrig
