#include "knowledge/toml_rows.h"

namespace dlrig {

Result<SourceMap> ReadSources(const toml::table& doc, std::string_view file) {
  const toml::table* table = doc["sources"].as_table();
  if (table == nullptr || table->empty())
    return Fail(ErrorKind::kMalformed, std::string(file) + " has no [sources] table");
  SourceMap sources;
  for (const auto& [key, node] : *table) {
    auto text = node.value<std::string>();
    if (!text || text->empty())
      return Fail(ErrorKind::kMalformed,
                  std::string(file) + ": source '" + std::string(key.str()) + "' is not a text");
    sources.emplace(std::string(key.str()), *text);
  }
  return sources;
}

// Appended rather than "#" + ...: GCC 12 reports a false -Wrestrict on that form.
std::string RowOrdinal(size_t index) {
  std::string text = "#";
  text += std::to_string(index + 1);
  return text;
}

std::optional<std::pair<int, int>> ParseComputeCapability(std::string_view text) {
  auto v = Version::Parse(text);
  if (!v || v->parts.size() != 2 || !v->suffix.empty()) return std::nullopt;
  if (v->major() <= 0 || v->minor() < 0 || v->minor() > 9) return std::nullopt;
  return std::pair{v->major(), v->minor()};
}

RowReader::RowReader(const toml::table& row, std::string where)
    : row_(row), where_(std::move(where)) {}

void RowReader::Problem(std::string message) {
  if (problem_.empty()) problem_ = std::move(message);
}

const toml::node* RowReader::Get(std::string_view key, Need need) {
  read_.emplace(key);
  const toml::node* node = row_.get(key);
  if (node == nullptr && need == Need::kRequired)
    Problem("lacks required field '" + std::string(key) + "'");
  return node;
}

std::string RowReader::String(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return {};
  auto value = node->value<std::string>();
  if (!node->is_string() || !value || (value->empty() && need == Need::kRequired)) {
    Problem("field '" + std::string(key) + "' must be a non-empty string");
    return {};
  }
  return *value;
}

std::optional<int64_t> RowReader::Int(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_integer()) {
    Problem("field '" + std::string(key) + "' must be an integer");
    return std::nullopt;
  }
  return node->value<int64_t>();
}

std::optional<double> RowReader::Number(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_number()) {
    Problem("field '" + std::string(key) + "' must be a number");
    return std::nullopt;
  }
  return node->value<double>();
}

std::optional<bool> RowReader::Bool(std::string_view key) {
  const toml::node* node = Get(key, Need::kOptional);
  if (node == nullptr) return std::nullopt;
  if (!node->is_boolean()) {
    Problem("field '" + std::string(key) + "' must be true or false");
    return std::nullopt;
  }
  return node->value<bool>();
}

std::vector<std::string> RowReader::Strings(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return {};
  std::vector<std::string> out;
  const toml::array* array = node->as_array();
  if (array != nullptr)
    for (const toml::node& item : *array)
      if (auto s = item.value<std::string>(); item.is_string() && s && !s->empty())
        out.push_back(*s);
  if (array == nullptr || out.size() != array->size() || (out.empty() && need == Need::kRequired))
    Problem("field '" + std::string(key) + "' must be an array of non-empty strings");
  return out;
}

std::vector<int64_t> RowReader::Ints(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return {};
  std::vector<int64_t> out;
  const toml::array* array = node->as_array();
  if (array != nullptr)
    for (const toml::node& item : *array)
      if (auto v = item.value<int64_t>(); item.is_integer() && v) out.push_back(*v);
  if (array == nullptr || out.size() != array->size() || (out.empty() && need == Need::kRequired))
    Problem("field '" + std::string(key) + "' must be an array of integers");
  return out;
}

std::optional<Version> RowReader::Ver(std::string_view key, Need need) {
  std::string text = String(key, need);
  if (text.empty()) return std::nullopt;
  auto v = Version::Parse(text);
  if (!v) Problem("field '" + std::string(key) + "' is not a version: " + text);
  return v;
}

const toml::table* RowReader::Table(std::string_view key) {
  const toml::node* node = Get(key, Need::kOptional);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) Problem("field '" + std::string(key) + "' must be a table");
  return node->as_table();
}

std::vector<std::string> RowReader::Sources(const SourceMap& sources) {
  std::vector<std::string> cited;
  for (const std::string& key : Strings("source", Need::kRequired)) {
    auto it = sources.find(key);
    if (it == sources.end()) {
      Problem("cites source '" + key + "' that [sources] does not define");
      continue;
    }
    cited.push_back(it->second);
  }
  return cited;
}

Result<void> RowReader::Finish() const {
  std::string problem = problem_;
  if (problem.empty())
    for (const auto& [key, node] : row_)
      if (!read_.contains(key.str())) {
        problem = "has unknown field '" + std::string(key.str()) + "'";
        break;
      }
  if (problem.empty()) return {};
  return Fail(ErrorKind::kMalformed, where_ + " " + problem);
}

}  // namespace dlrig
