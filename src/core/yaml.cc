#include "core/yaml.h"

#include <fmt/format.h>
#include <yaml.h>

#include <map>

namespace dlrig {

const YamlNode* YamlNode::Get(std::string_view key) const {
  for (const YamlEntry& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

namespace {

// Deeper nesting than any environment file has; keeps the recursion off the stack's end.
constexpr int kMaxDepth = 64;
// Nodes after alias expansion: a few alias levels can otherwise multiply a small file into
// gigabytes.
constexpr size_t kMaxNodes = 200000;

size_t CountNodes(const YamlNode& n) {
  size_t count = 1;
  for (const YamlNode& item : n.items) count += CountNodes(item);
  for (const YamlEntry& e : n.entries) count += CountNodes(e.value);
  return count;
}

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() {
    if (filled_) yaml_event_delete(&e_);
  }
  yaml_event_t* get() { return &e_; }
  void set_filled() { filled_ = true; }
  yaml_event_type_t type() const { return e_.type; }
  const yaml_event_t& operator*() const { return e_; }

 private:
  yaml_event_t e_{};
  bool filled_ = false;
};

class Builder {
 public:
  Builder(std::string_view text, std::string_view name) : name_(name) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_)
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
  }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  ~Builder() {
    if (ok_) yaml_parser_delete(&parser_);
  }

  Result<YamlNode> Document() {
    if (!ok_) return Fail(ErrorKind::kIo, name_ + ": cannot start the YAML parser");
    for (;;) {
      Event ev;
      if (auto r = Next(ev); !r) return tl::unexpected(r.error());
      switch (ev.type()) {
        case YAML_STREAM_END_EVENT:
          return YamlNode{};
        case YAML_DOCUMENT_START_EVENT: {
          Event first;
          if (auto r = Next(first); !r) return tl::unexpected(r.error());
          if (first.type() == YAML_DOCUMENT_END_EVENT) return YamlNode{};
          return Node(first, 0);
        }
        default:
          break;  // STREAM_START
      }
    }
  }

 private:
  Result<void> Next(Event& ev) {
    if (yaml_parser_parse(&parser_, ev.get()) == 0) {
      std::string problem = parser_.problem != nullptr ? parser_.problem : "malformed YAML";
      if (parser_.context != nullptr)
        problem = fmt::format("{} (started at line {}): {}", parser_.context,
                              parser_.context_mark.line + 1, problem);
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{}:{}:{}: {}", name_, parser_.problem_mark.line + 1,
                              parser_.problem_mark.column + 1, problem));
    }
    ev.set_filled();
    return {};
  }

  tl::unexpected<Error> Malformed(size_t line, std::string_view what) const {
    return Fail(ErrorKind::kMalformed, fmt::format("{}:{}: {}", name_, line + 1, what));
  }

  Result<void> Count(size_t n, size_t line) {
    nodes_ += n;
    if (nodes_ > kMaxNodes)
      return Malformed(line,
                       fmt::format("more than {} nodes once aliases are expanded", kMaxNodes));
    return {};
  }

  void Remember(const yaml_char_t* anchor, const YamlNode& node) {
    if (anchor != nullptr) anchors_[reinterpret_cast<const char*>(anchor)] = node;
  }

  Result<YamlNode> Node(Event& ev, int depth) {
    const yaml_event_t& e = *ev;
    size_t line = e.start_mark.line;
    if (depth > kMaxDepth) return Malformed(line, fmt::format("nested deeper than {}", kMaxDepth));
    YamlNode node;
    node.line = static_cast<int>(line) + 1;
    switch (e.type) {
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end())
          return Malformed(line, fmt::format("unknown alias *{}",
                                             reinterpret_cast<const char*>(e.data.alias.anchor)));
        if (auto r = Count(CountNodes(it->second), line); !r) return tl::unexpected(r.error());
        return it->second;
      }
      case YAML_SCALAR_EVENT: {
        if (auto r = Count(1, line); !r) return tl::unexpected(r.error());
        node.scalar.assign(reinterpret_cast<const char*>(e.data.scalar.value),
                           e.data.scalar.length);
        node.quoted = e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        bool null =
            !node.quoted && (node.scalar.empty() || node.scalar == "~" || node.scalar == "null" ||
                             node.scalar == "Null" || node.scalar == "NULL");
        node.kind = null ? YamlNode::Kind::kNull : YamlNode::Kind::kScalar;
        Remember(e.data.scalar.anchor, node);
        return node;
      }
      case YAML_SEQUENCE_START_EVENT: {
        if (auto r = Count(1, line); !r) return tl::unexpected(r.error());
        node.kind = YamlNode::Kind::kSequence;
        const yaml_char_t* anchor = e.data.sequence_start.anchor;
        for (;;) {
          Event item;
          if (auto r = Next(item); !r) return tl::unexpected(r.error());
          if (item.type() == YAML_SEQUENCE_END_EVENT) break;
          auto child = Node(item, depth + 1);
          if (!child) return child;
          node.items.push_back(std::move(*child));
        }
        Remember(anchor, node);
        return node;
      }
      case YAML_MAPPING_START_EVENT: {
        if (auto r = Count(1, line); !r) return tl::unexpected(r.error());
        node.kind = YamlNode::Kind::kMapping;
        const yaml_char_t* anchor = e.data.mapping_start.anchor;
        std::vector<YamlEntry> merged;
        for (;;) {
          Event key;
          if (auto r = Next(key); !r) return tl::unexpected(r.error());
          if (key.type() == YAML_MAPPING_END_EVENT) break;
          size_t key_line = (*key).start_mark.line;
          auto key_node = Node(key, depth + 1);
          if (!key_node) return key_node;
          if (key_node->kind == YamlNode::Kind::kSequence ||
              key_node->kind == YamlNode::Kind::kMapping)
            return Malformed(key_line, "a mapping key that is not a scalar");
          Event value;
          if (auto r = Next(value); !r) return tl::unexpected(r.error());
          auto value_node = Node(value, depth + 1);
          if (!value_node) return value_node;
          if (key_node->scalar == "<<" && !key_node->quoted) {
            if (auto r = Merge(*value_node, merged, key_line); !r) return tl::unexpected(r.error());
            continue;
          }
          node.entries.push_back(
              {key_node->scalar, static_cast<int>(key_line) + 1, std::move(*value_node)});
        }
        // Keys written in the mapping win over merged ones, wherever they stand.
        for (YamlEntry& m : merged)
          if (node.Get(m.key) == nullptr) node.entries.push_back(std::move(m));
        Remember(anchor, node);
        return node;
      }
      default:
        return Malformed(line, "unexpected YAML event");
    }
  }

  // "<<: *base" or "<<: [*a, *b]": the mappings' entries, the first one's winning.
  Result<void> Merge(const YamlNode& value, std::vector<YamlEntry>& merged, size_t line) const {
    std::vector<const YamlNode*> sources;
    if (value.IsMapping()) {
      sources.push_back(&value);
    } else if (value.IsSequence()) {
      for (const YamlNode& item : value.items) sources.push_back(&item);
    }
    if (sources.empty()) return Malformed(line, "a merge key (<<) whose value is not a mapping");
    for (const YamlNode* src : sources) {
      if (!src->IsMapping())
        return Malformed(line, "a merge key (<<) whose value is not a mapping");
      for (const YamlEntry& e : src->entries) {
        bool seen = false;
        for (const YamlEntry& m : merged) seen = seen || m.key == e.key;
        if (!seen) merged.push_back(e);
      }
    }
    return {};
  }

  std::string name_;
  yaml_parser_t parser_{};
  bool ok_ = false;
  std::map<std::string, YamlNode> anchors_;
  size_t nodes_ = 0;
};

}  // namespace

Result<YamlNode> ParseYaml(std::string_view text, std::string_view name) {
  Builder builder(text, name);
  return builder.Document();
}

}  // namespace dlrig
