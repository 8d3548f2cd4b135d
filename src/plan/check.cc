#include "plan/check.h"

#include <fmt/format.h>

#include <algorithm>

namespace dlrig {

Result<CheckKnowledge> BuiltInCheckKnowledge() {
  const auto& drivers = CudaDrivers::BuiltIn();
  if (!drivers) return tl::unexpected(drivers.error());
  const auto& torch = PytorchBuilds::BuiltIn();
  if (!torch) return tl::unexpected(torch.error());
  const auto& extensions = CudaExtensions::BuiltIn();
  if (!extensions) return tl::unexpected(extensions.error());
  const auto& extras = Extras::BuiltIn();
  if (!extras) return tl::unexpected(extras.error());
  const auto& tensorflow = TensorflowBuilds::BuiltIn();
  if (!tensorflow) return tl::unexpected(tensorflow.error());
  const auto& jax = JaxBuilds::BuiltIn();
  if (!jax) return tl::unexpected(jax.error());
  return CheckKnowledge{&*drivers, &*torch, &*extensions, &*extras, &*tensorflow, &*jax};
}

std::vector<CheckFinding> CheckProject(const ProjectFacts& facts, const MachineSpec& machine,
                                       const CheckKnowledge& kb) {
  std::vector<CheckFinding> out;
  CheckTorch(facts, machine, kb, out);
  CheckConda(facts, machine, kb, out);
  CheckExtensionBuilds(facts, machine, kb, out);
  CheckContainers(facts, machine, kb, out);
  CheckExtras(facts, machine, kb, out);
  CheckFrameworks(facts, machine, kb, out);
  std::stable_sort(out.begin(), out.end(), [](const CheckFinding& a, const CheckFinding& b) {
    if (a.at.file != b.at.file) return a.at.file < b.at.file;
    return a.at.line < b.at.line;
  });
  return out;
}

std::optional<Version> DriverCuda(const MachineSpec& machine, const CudaDrivers& drivers) {
  if (machine.driver_cuda) return machine.driver_cuda;
  if (machine.driver) return drivers.NewestCudaFor(*machine.driver);
  return std::nullopt;
}

const CudaDriverRow* CudaRowFor(const CudaDrivers& drivers, const Version& cuda) {
  for (const auto& row : drivers.rows())
    if (row.cuda.major() == cuda.major() && row.cuda.minor() == cuda.minor()) return &row;
  return nullptr;
}

std::string DriverNeed(const CudaDriverRow& row) {
  if (row.minor_compat_driver && *row.minor_compat_driver < row.toolkit_driver)
    return fmt::format("driver >= {} (CUDA {}.x minor-version compatibility; {} for every feature)",
                       row.minor_compat_driver->text, row.cuda.major(), row.toolkit_driver.text);
  return fmt::format("driver >= {}", row.toolkit_driver.text);
}

std::string ReplaceFirst(std::string_view line, std::string_view from, std::string_view to) {
  size_t pos = from.empty() ? std::string_view::npos : line.find(from);
  if (pos == std::string_view::npos) return "";
  std::string out(line);
  out.replace(pos, from.size(), to);
  return out;
}

std::string ReplaceRequirement(const PackageSpec& p, std::string_view with) {
  const std::string& line = p.at.text.str();
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  };
  for (size_t i = 0; i < line.size(); ++i) {
    if (!name_char(line[i]) || (i > 0 && name_char(line[i - 1]))) continue;
    size_t j = i;
    while (j < line.size() && name_char(line[j])) ++j;
    if (NormalizePackageName(std::string_view(line).substr(i, j - i)) != p.name) continue;
    if (j < line.size() && line[j] == '[') {
      size_t close = line.find(']', j);
      if (close == std::string::npos) return "";
      j = close + 1;
    }
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j])) &&
           line[j] != '"' && line[j] != '\'' && line[j] != ';')
      ++j;
    std::string out = line;
    out.replace(i, j - i, with);
    return out;
  }
  return "";
}

std::string TorchIndexVariant(std::string_view url) {
  size_t host = url.find("download.pytorch.org/whl/");
  if (host == std::string_view::npos) return "";
  std::string_view rest = url.substr(host + 25);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  std::string_view last = rest.substr(rest.rfind('/') + 1);
  if (last == "cpu") return "cpu";
  if (last.size() >= 4 && last.starts_with("cu") &&
      std::all_of(last.begin() + 2, last.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::string(last);
  return "";
}

}  // namespace dlrig
