#include "knowledge/cuda_drivers.h"

#include <algorithm>

#include "core/toml.h"
#include "knowledge/data_files.h"

namespace dlrig {

Result<CudaDrivers> CudaDrivers::Parse(std::string_view text) {
  auto doc = ParseToml(text, "cuda-drivers.toml");
  if (!doc) return tl::unexpected(doc.error());
  CudaDrivers table;
  const toml::array* rows = (*doc)["cuda"].as_array();
  if (rows == nullptr) return Fail(ErrorKind::kMalformed, "cuda-drivers.toml has no [[cuda]]");
  for (const toml::node& n : *rows) {
    const toml::table* row = n.as_table();
    if (row == nullptr) return Fail(ErrorKind::kMalformed, "cuda-drivers.toml: row not a table");
    auto cuda = Version::Parse((*row)["version"].value_or(std::string()));
    auto drv = Version::Parse((*row)["toolkit_driver"].value_or(std::string()));
    std::string source = (*row)["source"].value_or(std::string());
    if (!cuda || !drv || source.empty())
      return Fail(ErrorKind::kMalformed, "cuda-drivers.toml: a row lacks version, driver or source");
    table.rows_.push_back({*cuda, *drv,
                           Version::Parse((*row)["minor_compat_driver"].value_or(std::string())),
                           source});
  }
  std::sort(table.rows_.begin(), table.rows_.end(),
            [](const CudaDriverRow& a, const CudaDriverRow& b) { return a.cuda > b.cuda; });
  return table;
}

const Result<CudaDrivers>& CudaDrivers::BuiltIn() {
  return ParseDataFileOnce<CudaDrivers>("cuda-drivers.toml");
}

std::optional<Version> CudaDrivers::NewestCudaFor(const Version& driver) const {
  for (const auto& row : rows_)
    if (row.toolkit_driver <= driver) return row.cuda;
  return std::nullopt;
}

std::optional<bool> CudaDrivers::Runs(const Version& cuda, const Version& driver) const {
  for (const auto& row : rows_) {
    if (row.cuda.major() != cuda.major() || row.cuda.minor() != cuda.minor()) continue;
    if (driver >= row.toolkit_driver) return true;
    return row.minor_compat_driver && driver >= *row.minor_compat_driver;
  }
  return std::nullopt;
}

}  // namespace dlrig
