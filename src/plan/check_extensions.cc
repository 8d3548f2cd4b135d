#include "plan/check_extensions.h"

#include "core/toml.h"
#include "knowledge/data_files.h"
#include "plan/project_files.h"

namespace dlrig {

Result<CudaExtensions> CudaExtensions::Parse(std::string_view text) {
  auto doc = ParseToml(text, "cuda-extensions.toml");
  if (!doc) return tl::unexpected(doc.error());
  const toml::array* rows = (*doc)["package"].as_array();
  if (rows == nullptr)
    return Fail(ErrorKind::kMalformed, "cuda-extensions.toml has no [[package]]");
  CudaExtensions table;
  for (const toml::node& n : *rows) {
    const toml::table* row = n.as_table();
    if (row == nullptr)
      return Fail(ErrorKind::kMalformed, "cuda-extensions.toml: a row is not a table");
    CudaExtensionRow r;
    r.name = NormalizePackageName((*row)["name"].value_or(std::string()));
    r.when = (*row)["when"].value_or(std::string());
    r.build_flag = (*row)["build_flag"].value_or(std::string());
    r.prebuild_env = (*row)["prebuild_env"].value_or(std::string());
    r.note = (*row)["note"].value_or(std::string());
    r.source = (*row)["source"].value_or(std::string());
    if (r.name.empty() || r.source.empty() || (r.when != "source" && r.when != "jit"))
      return Fail(
          ErrorKind::kMalformed,
          "cuda-extensions.toml: a row lacks name or source, or its when is not source|jit");
    table.rows_.push_back(std::move(r));
  }
  return table;
}

const Result<CudaExtensions>& CudaExtensions::BuiltIn() {
  return ParseDataFileOnce<CudaExtensions>("cuda-extensions.toml");
}

const CudaExtensionRow* CudaExtensions::Find(std::string_view name) const {
  for (const auto& r : rows_)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace dlrig
