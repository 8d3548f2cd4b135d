// What a Linux distribution release ships that a plan depends on (data/os-python.toml): its
// python3, its glibc (the newest manylinux tag its wheels may carry) and how it packages the
// NVIDIA driver.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

enum class DriverFamily { kUbuntu, kDebian, kRhel };

struct OsPythonRow {
  std::vector<std::string> ids;  ///< os-release ID values: "ubuntu"; "rhel", "rocky", ...
  std::string version;           ///< VERSION_ID: "22.04", "12"
  Version python3;               ///< "3.10"
  Version glibc;                 ///< "2.35"
  DriverFamily family = DriverFamily::kUbuntu;
  std::optional<int> driver_branch;  ///< the distribution's own nvidia-driver branch (Debian)
  std::vector<std::string> sources;
  /// "ubuntu-22.04"
  std::string Name() const { return ids.front() + "-" + version; }
};

class OsPythonTable {
 public:
  static Result<OsPythonTable> Parse(std::string_view text);
  static const Result<OsPythonTable>& BuiltIn();
  /// The row of os-release ID `id` and VERSION_ID `version` ("9.4" finds the "9" row);
  /// nullptr when the table does not know that release.
  const OsPythonRow* Find(std::string_view id, std::string_view version) const;
  const std::vector<OsPythonRow>& rows() const { return rows_; }

 private:
  std::vector<OsPythonRow> rows_;
};

}  // namespace dlrig
