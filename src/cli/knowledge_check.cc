#include "cli/knowledge_check.h"

#include <functional>
#include <utility>

#include "bench/goals.h"
#include "core/toml.h"
#include "knowledge/architectures.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/data_files.h"
#include "knowledge/driver_branches.h"
#include "knowledge/framework_builds.h"
#include "knowledge/gpus.h"
#include "knowledge/host_compilers.h"
#include "knowledge/nccl_releases.h"
#include "knowledge/pytorch_builds.h"
#include "knowledge/tensor_rates.h"
#include "knowledge/xids.h"
#include "plan/check_extensions.h"
#include "plan/docker_images.h"
#include "plan/extras.h"
#include "plan/os_python.h"
#include "probe/python.h"
#include "rules/catalog.h"

namespace dlrig {
namespace {

template <class Table>
std::optional<Error> ErrorOf() {
  const auto& table = Table::BuiltIn();
  if (table) return std::nullopt;
  return table.error();
}

std::optional<Error> WheelLayoutsError() {
  auto text = DataFileText("wheel-layouts.toml");
  auto parsed = text ? ParseWheelLayouts(*text) : tl::unexpected(text.error());
  if (parsed) return std::nullopt;
  return parsed.error();
}

// Each table file and the loader that reads it. A table added to data/ without a line here
// is checked for its TOML syntax only.
const std::pair<const char*, std::function<std::optional<Error>()>> kLoaders[] = {
    {"architectures.toml", ErrorOf<Architectures>},
    {"bench-goals.toml", ErrorOf<bench::Goals>},
    {"cuda-drivers.toml", ErrorOf<CudaDrivers>},
    {"cuda-extensions.toml", ErrorOf<CudaExtensions>},
    {"cudnn.toml", ErrorOf<CudnnTable>},
    {"docker-images.toml", ErrorOf<DockerImages>},
    {"driver-branches.toml", ErrorOf<DriverBranches>},
    {"extras.toml", ErrorOf<Extras>},
    {"findings.toml", ErrorOf<Catalog>},
    {"gpus.toml", ErrorOf<GpuCatalog>},
    {"host-compilers.toml", ErrorOf<HostCompilers>},
    {"jax.toml", ErrorOf<JaxBuilds>},
    {"nccl.toml", ErrorOf<NcclReleases>},
    {"os-python.toml", ErrorOf<OsPythonTable>},
    {"pytorch.toml", ErrorOf<PytorchBuilds>},
    {"tensor-rates.toml", ErrorOf<TensorRates>},
    {"tensorflow.toml", ErrorOf<TensorflowBuilds>},
    {"wheel-layouts.toml", WheelLayoutsError},
    {"xid.toml", ErrorOf<XidTable>},
};

}  // namespace

std::optional<TableProblem> KnowledgeTableProblem(const std::string& file) {
  auto found = FindDataFile(file);
  if (!found)
    return TableProblem{file, "", {ErrorKind::kNotFound, file + " is not a knowledge table"}};
  for (const auto& [name, load] : kLoaders) {
    if (file != name) continue;
    if (auto error = load()) return TableProblem{file, found->origin, *error};
    return std::nullopt;
  }
  auto doc = ParseToml(found->text, file);  // a table no loader here knows: its syntax at least
  if (!doc) return TableProblem{file, found->origin, doc.error()};
  return std::nullopt;
}

std::vector<TableProblem> KnowledgeTableProblems() {
  std::vector<TableProblem> problems;
  for (const DataFile& file : DataFiles())
    if (auto problem = KnowledgeTableProblem(file.name)) problems.push_back(std::move(*problem));
  return problems;
}

}  // namespace dlrig
