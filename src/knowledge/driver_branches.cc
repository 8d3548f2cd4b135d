#include "knowledge/driver_branches.h"

#include <algorithm>

#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "driver-branches.toml";

std::optional<int> BranchNumber(RowReader& r, std::string_view key, Need need) {
  auto value = r.Int(key, need);
  if (!value) return std::nullopt;
  if (*value < 1 || *value > 9999) {
    r.Problem("field '" + std::string(key) + "' is not a driver branch");
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

Result<BranchRow> ReadBranch(const toml::table& t, size_t index, const SourceMap& sources) {
  auto number = t["branch"].value<int64_t>();
  RowReader r(t, std::string(kFile) + " [[branch]] " +
                     (number ? std::to_string(*number) : RowOrdinal(index)));
  BranchRow row;
  row.branch = BranchNumber(r, "branch", Need::kRequired).value_or(0);
  row.designation = r.String("designation", Need::kOptional);
  row.end_of_life = r.String("end_of_life", Need::kOptional);
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

Result<GpuSupportRow> ReadSupport(const toml::table& t, size_t index, const SourceMap& sources) {
  std::string arch = t["architecture"].value_or(std::string());
  RowReader r(t, std::string(kFile) + " [[support]] " + RowOrdinal(index) +
                     (arch.empty() ? "" : " (" + arch + ")"));
  GpuSupportRow row;
  row.architecture = r.String("architecture", Need::kRequired);
  for (const std::string& text : r.Strings("cc", Need::kRequired)) {
    if (auto cc = ParseComputeCapability(text))
      row.ccs.push_back(*cc);
    else
      r.Problem("cc '" + text + "' is not major.minor");
  }
  row.last_branch = BranchNumber(r, "last_branch", Need::kOptional);
  row.min_branch = BranchNumber(r, "min_branch", Need::kOptional);
  row.open_module = r.Bool("open_module");
  row.open_module_required = r.Bool("open_module_required").value_or(false);
  if (row.open_module_required && row.open_module == false)
    r.Problem("requires the open module that it says cannot drive it");
  row.confirmed = r.Bool("confirmed").value_or(true);
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

}  // namespace

Result<DriverBranches> DriverBranches::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto sources = ReadSources(*doc, kFile);
  if (!sources) return tl::unexpected(sources.error());
  auto branches = ReadRowArray<BranchRow>(*doc, kFile, "branch", *sources, ReadBranch);
  if (!branches) return tl::unexpected(branches.error());
  auto support = ReadRowArray<GpuSupportRow>(*doc, kFile, "support", *sources, ReadSupport);
  if (!support) return tl::unexpected(support.error());
  DriverBranches table;
  table.branches_ = std::move(*branches);
  std::sort(table.branches_.begin(), table.branches_.end(),
            [](const BranchRow& a, const BranchRow& b) { return a.branch < b.branch; });
  for (size_t i = 1; i < table.branches_.size(); ++i)
    if (table.branches_[i].branch == table.branches_[i - 1].branch)
      return Fail(ErrorKind::kMalformed, std::string(kFile) + ": branch " +
                                             std::to_string(table.branches_[i].branch) +
                                             " appears twice");
  for (auto& row : *support) {
    for (auto [major, minor] : row.ccs)
      if (table.SupportFor(major, minor))
        return Fail(ErrorKind::kMalformed, std::string(kFile) + ": cc " + std::to_string(major) +
                                               "." + std::to_string(minor) +
                                               " appears in two [[support]] rows");
    table.support_.push_back(std::move(row));
  }
  return table;
}

const Result<DriverBranches>& DriverBranches::BuiltIn() {
  return ParseDataFileOnce<DriverBranches>(kFile);
}

const BranchRow* DriverBranches::Branch(int branch) const {
  for (const auto& row : branches_)
    if (row.branch == branch) return &row;
  return nullptr;
}

const GpuSupportRow* DriverBranches::SupportFor(int cc_major, int cc_minor) const {
  for (const auto& row : support_)
    if (std::find(row.ccs.begin(), row.ccs.end(), std::pair{cc_major, cc_minor}) != row.ccs.end())
      return &row;
  return nullptr;
}

std::optional<bool> DriverBranches::Supports(const Version& driver, int cc_major, int cc_minor,
                                             KernelModule module) const {
  const GpuSupportRow* row = SupportFor(cc_major, cc_minor);
  if (row == nullptr) return std::nullopt;
  int branch = driver.major();
  if (row->last_branch && branch > *row->last_branch) return false;
  if (row->min_branch && branch < *row->min_branch) return false;
  if (module == KernelModule::kProprietary && row->open_module_required) return false;
  if (module == KernelModule::kOpen && row->open_module == false) return false;
  return true;
}

std::optional<bool> DriverBranches::NeedsOpenModule(int cc_major, int cc_minor) const {
  const GpuSupportRow* row = SupportFor(cc_major, cc_minor);
  if (row == nullptr) return std::nullopt;
  return row->open_module_required;
}

std::optional<bool> DriverBranches::OpenModuleDrives(int cc_major, int cc_minor) const {
  const GpuSupportRow* row = SupportFor(cc_major, cc_minor);
  if (row == nullptr) return std::nullopt;
  return row->open_module;
}

std::optional<int> DriverBranches::LastBranch(int cc_major, int cc_minor) const {
  const GpuSupportRow* row = SupportFor(cc_major, cc_minor);
  if (row == nullptr) return std::nullopt;
  return row->last_branch;
}

std::optional<Version> NewestCudaForBranch(int branch, const CudaDrivers& cuda_drivers) {
  for (const auto& row : cuda_drivers.rows())  // newest first
    if (row.toolkit_driver.major() <= branch) return row.cuda;
  return std::nullopt;
}

}  // namespace dlrig
