#include "knowledge/xids.h"

#include "core/toml.h"
#include "knowledge/data_files.h"

namespace dlrig {
namespace {

Result<std::map<std::string, std::string, std::less<>>> ParseSteps(const toml::table& doc) {
  std::map<std::string, std::string, std::less<>> steps;
  const toml::array* rows = doc["action"].as_array();
  if (rows == nullptr) return Fail(ErrorKind::kMalformed, "xid.toml has no [[action]]");
  for (const toml::node& n : *rows) {
    const toml::table* row = n.as_table();
    std::string key = row ? (*row)["key"].value_or(std::string()) : "";
    std::string step = row ? (*row)["step"].value_or(std::string()) : "";
    std::string source = row ? (*row)["source"].value_or(std::string()) : "";
    if (key.empty() || step.empty() || source.empty())
      return Fail(ErrorKind::kMalformed, "xid.toml: an [[action]] lacks key, step or source");
    steps[key] = step;
  }
  return steps;
}

// The row's code, or each of its `codes`.
std::vector<int> CodesOf(const toml::table& row) {
  std::vector<int> codes;
  if (auto code = row["code"].value<int64_t>()) codes.push_back(static_cast<int>(*code));
  if (const toml::array* list = row["codes"].as_array())
    for (const toml::node& c : *list)
      if (auto v = c.value<int64_t>()) codes.push_back(static_cast<int>(*v));
  return codes;
}

}  // namespace

Result<XidTable> XidTable::Parse(std::string_view text) {
  auto doc = ParseToml(text, "xid.toml");
  if (!doc) return tl::unexpected(doc.error());
  XidTable table;
  auto steps = ParseSteps(*doc);
  if (!steps) return tl::unexpected(steps.error());
  table.steps_ = std::move(*steps);
  const toml::array* rows = (*doc)["xid"].as_array();
  if (rows == nullptr) return Fail(ErrorKind::kMalformed, "xid.toml has no [[xid]]");
  for (const toml::node& n : *rows) {
    const toml::table* row = n.as_table();
    if (row == nullptr) return Fail(ErrorKind::kMalformed, "xid.toml: row not a table");
    std::vector<int> codes = CodesOf(*row);
    std::string where =
        "xid.toml: row " + (codes.empty() ? std::string("?") : std::to_string(codes[0]));
    XidInfo info;
    info.name = (*row)["name"].value_or(std::string());
    info.meaning = (*row)["meaning"].value_or(std::string());
    info.nvidia_immediate = (*row)["nvidia_immediate"].value_or(std::string());
    info.nvidia_investigatory = (*row)["nvidia_investigatory"].value_or(std::string());
    info.action = (*row)["action"].value_or(std::string());
    info.advice = (*row)["advice"].value_or(std::string());
    info.advice_confirmed = (*row)["advice_confirmed"].value_or(true);
    info.source = (*row)["source"].value_or(std::string());
    auto severity = ParseSeverity((*row)["severity"].value_or(std::string()));
    if (codes.empty() || info.name.empty() || info.meaning.empty() || info.advice.empty() ||
        info.source.empty() || !severity)
      return Fail(ErrorKind::kMalformed,
                  where + ": needs code, name, meaning, severity, advice and source");
    if (!table.steps_.count(info.action))
      return Fail(ErrorKind::kMalformed, where + ": unknown action \"" + info.action + "\"");
    info.severity = *severity;
    for (int code : codes) {
      if (table.rows_.count(code))
        return Fail(ErrorKind::kMalformed, "xid.toml: Xid " + std::to_string(code) + " twice");
      info.code = code;
      table.rows_[code] = info;
    }
  }
  return table;
}

const Result<XidTable>& XidTable::BuiltIn() {
  return ParseDataFileOnce<XidTable>("xid.toml");
}

const XidInfo* XidTable::Find(int code) const {
  auto it = rows_.find(code);
  return it == rows_.end() ? nullptr : &it->second;
}

std::string XidTable::Step(std::string_view action) const {
  auto it = steps_.find(action);
  return it == steps_.end() ? "" : it->second;
}

}  // namespace dlrig
