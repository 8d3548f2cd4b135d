#include "plan/machine.h"

#include <algorithm>
#include <cstdlib>

#include "core/strings.h"
#include "knowledge/architectures.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/gpus.h"
#include "knowledge/toml_rows.h"
#include "rules/facts.h"

namespace dlrig {
namespace {

constexpr uint16_t kNvidia = 0x10de;

std::optional<Version> ParsedVersion(const Result<std::string>& text) {
  if (!text) return std::nullopt;
  return Version::Parse(*text);
}

PlanGpu GpuFromRow(const GpuRow& row, std::optional<uint16_t> device_id) {
  PlanGpu gpu;
  gpu.name = row.name;
  gpu.device_id = device_id;
  if (row.cc_major > 0)
    gpu.compute_capability = Version::Parse(std::to_string(row.cc_major) + "." +
                                            std::to_string(row.cc_minor));
  gpu.architecture = row.architecture;
  gpu.memory_gb = row.memory_gb;
  return gpu;
}

/// The driver's CUDA, else the newest CUDA whose own driver the installed one reaches.
std::optional<Version> CudaForDriver(const std::optional<Version>& driver) {
  const auto& table = CudaDrivers::BuiltIn();
  if (!driver || !table) return std::nullopt;
  return table->NewestCudaFor(*driver);
}

std::string Quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string CcText(const GpuRow& row) {
  return std::to_string(row.cc_major) + "." + std::to_string(row.cc_minor);
}

/// `--gpu NAME`: a catalogue name or alias, exactly (GpuNameKey), never the nearest one. A name
/// several rows share resolves only when they agree on what plan needs (architecture and CC).
Result<PlanGpu> DescribeGpu(std::string_view text, std::vector<std::string>& notes) {
  const auto& catalog = GpuCatalog::BuiltIn();
  if (!catalog) return tl::unexpected(catalog.error());
  std::string name(Trim(text));
  if (GpuNameKey(name).empty())
    return Fail(ErrorKind::kMalformed, "--gpu is empty; name a product such as \"RTX 4090\"");
  GpuCatalog::NameMatch match = catalog->MatchName(name);
  if (match.named != nullptr) return GpuFromRow(*match.named, std::nullopt);
  if (match.aliased.empty())
    return Fail(ErrorKind::kMalformed,
                "unknown GPU '" + name + "'; did you mean: " +
                    Quoted(catalog->NearestNames(name, 5)) +
                    "? (or describe it with --cc X.Y [--memory GB])");
  const GpuRow& first = *match.aliased.front();
  bool alike = std::all_of(match.aliased.begin(), match.aliased.end(), [&](const GpuRow* r) {
    return r->cc_major == first.cc_major && r->cc_minor == first.cc_minor &&
           r->architecture == first.architecture;
  });
  std::vector<std::string> names;
  for (const GpuRow* r : match.aliased)
    names.push_back(r->name + (alike ? "" : " (" + r->architecture + ", CC " + CcText(*r) + ")"));
  if (!alike)
    return Fail(ErrorKind::kMalformed, "GPU name '" + name + "' is ambiguous: " + Quoted(names) +
                                           "; give one of these names, or --cc X.Y");
  if (match.aliased.size() > 1)
    notes.push_back("--gpu '" + name + "' names " + std::to_string(names.size()) +
                    " catalogue GPUs (" + Quoted(names) + "), all " + first.architecture +
                    " CC " + CcText(first) + "; planned as " + first.name);
  return GpuFromRow(first, std::nullopt);
}

Result<double> DescribeMemory(std::string_view text) {
  std::string s = ToLower(Trim(text));
  if (EndsWith(s, "gb")) s = std::string(Trim(s.substr(0, s.size() - 2)));
  char* end = nullptr;
  double gb = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(gb > 0) || gb > 100000)
    return Fail(ErrorKind::kMalformed, "malformed --memory \"" + std::string(Trim(text)) +
                                           "\"; give the GPU's memory in GB, e.g. 24");
  return gb;
}

/// `--cc X.Y [--memory GB]`: a GPU the catalogue lacks, by compute capability (architectures.toml).
Result<PlanGpu> DescribeGpuByCc(const MachineDescription& d, std::vector<std::string>& notes) {
  auto cc = ParseComputeCapability(Trim(d.cc));
  const auto& archs = Architectures::BuiltIn();
  if (!archs) return tl::unexpected(archs.error());
  const ArchRow* arch = cc ? archs->Find(cc->first, cc->second) : nullptr;
  if (arch == nullptr) {
    std::string known;
    for (const ArchRow& r : archs->rows()) known += (known.empty() ? "" : ", ") + r.Cc();
    return Fail(ErrorKind::kMalformed, "unknown compute capability --cc '" +
                                           std::string(Trim(d.cc)) + "'; known: " + known);
  }
  PlanGpu gpu;
  gpu.compute_capability = Version::Parse(arch->Cc());
  gpu.architecture = arch->architecture;
  gpu.name = d.gpu.empty() ? "GPU of compute capability " + arch->Cc() : std::string(Trim(d.gpu));
  if (!d.gpu.empty()) {
    const auto& catalog = GpuCatalog::BuiltIn();
    GpuCatalog::NameMatch match =
        catalog ? catalog->MatchName(d.gpu) : GpuCatalog::NameMatch{};
    const GpuRow* row = match.named ? match.named
                        : match.aliased.size() == 1 ? match.aliased.front()
                                                    : nullptr;
    if (row && (row->cc_major != cc->first || row->cc_minor != cc->second))
      return Fail(ErrorKind::kMalformed, "--gpu '" + gpu.name + "' is " + row->name +
                                             ", compute capability " + CcText(*row) +
                                             ", not --cc " + arch->Cc() + "; give one of them");
    if (!row) notes.push_back("--gpu '" + gpu.name + "' is not in the catalogue; planned by --cc " +
                              arch->Cc() + " (" + arch->architecture + ")");
  }
  return gpu;
}

Result<Version> DescribeDriver(std::string_view text) {
  auto v = Version::Parse(Trim(text));
  if (!v || !v->suffix.empty() || v->parts.size() > 3 || v->major() < 100)
    return Fail(ErrorKind::kMalformed, "malformed --driver \"" + std::string(Trim(text)) +
                                           "\"; give the Linux driver version, e.g. 535.183 or "
                                           "580.95.05");
  return *v;
}

Result<std::pair<std::string, std::string>> DescribeOs(std::string_view text) {
  std::string lower = ToLower(Trim(text));
  size_t split = lower.find_first_of("-: ");
  if (split == std::string::npos) {  // "ubuntu22.04"
    split = lower.find_first_of("0123456789");
    if (split == std::string::npos || split == 0)
      return Fail(ErrorKind::kMalformed, "malformed --os \"" + std::string(Trim(text)) +
                                             "\"; write ID-VERSION as in /etc/os-release, e.g. "
                                             "ubuntu-22.04 or debian-12");
    return std::pair{lower.substr(0, split), lower.substr(split)};
  }
  std::string id = lower.substr(0, split), version = lower.substr(split + 1);
  auto parsed = Version::Parse(version);
  if (id.empty() || !parsed || !parsed->suffix.empty())
    return Fail(ErrorKind::kMalformed, "malformed --os \"" + std::string(Trim(text)) +
                                           "\"; write ID-VERSION as in /etc/os-release, e.g. "
                                           "ubuntu-22.04 or debian-12");
  return std::pair{id, version};
}

}  // namespace

MachineSpec MachineFromInventory(const Inventory& inv) {
  MachineSpec spec;
  spec.origin = inv.root == "/" || inv.root.empty() ? "this machine" : "--root " + inv.root;
  for (const PciDevice* dev : NvidiaGpus(inv)) {
    auto id = static_cast<uint16_t>(dev->device_id);
    if (auto row = GpuCatalog::BuiltInRow(kNvidia, id)) {
      spec.gpus.push_back(GpuFromRow(*row, id));
      continue;
    }
    PlanGpu gpu;
    gpu.name = dev->name;
    gpu.device_id = id;
    spec.gpus.push_back(std::move(gpu));
  }
  if (auto loaded = LoadedDriverVersion(inv)) spec.driver = Version::Parse(*loaded);
  if (auto cuda = DriverCudaVersion(inv))
    spec.driver_cuda = Version::Parse(CudaVersionFromInt(*cuda));
  else
    spec.driver_cuda = CudaForDriver(spec.driver);
  if (inv.host.os) {
    spec.os_id = inv.host.os->id;
    spec.os_version = inv.host.os->version_id;
  }
  if (inv.host.machine) spec.machine = *inv.host.machine;
  if (const CudaToolkit* tk = BuildToolkit(inv.toolkits)) spec.nvcc = ParsedVersion(tk->version);
  if (inv.shell.gcc) spec.gcc = ParsedVersion(inv.shell.gcc->version);
  for (const PythonInterpreter& in : inv.python.interpreters) {
    if (auto v = ParsedVersion(in.version)) {
      spec.python = v;
      break;
    }
  }
  // python3 named without X.Y whose target is missing (a capture): the environment PATH leads to.
  for (const PythonEnv& env : inv.python.envs) {
    if (spec.python) break;
    if (std::find(env.origins.begin(), env.origins.end(), "PATH") != env.origins.end())
      spec.python = ParsedVersion(env.python_version);
  }
  return spec;
}

Result<MachineSpec> DescribeMachine(const MachineDescription& description) {
  MachineSpec spec;
  spec.origin = "described";
  if (!description.cc.empty() || !description.gpu.empty()) {
    auto gpu = description.cc.empty() ? DescribeGpu(description.gpu, spec.notes)
                                      : DescribeGpuByCc(description, spec.notes);
    if (!gpu) return tl::unexpected(gpu.error());
    if (!description.memory.empty()) {
      auto gb = DescribeMemory(description.memory);
      if (!gb) return tl::unexpected(gb.error());
      gpu->memory_gb = *gb;
    }
    spec.gpus.push_back(std::move(*gpu));
  } else if (!description.memory.empty()) {
    return Fail(ErrorKind::kMalformed, "--memory describes a GPU: give --gpu NAME or --cc X.Y too");
  }
  if (!description.driver.empty()) {
    auto driver = DescribeDriver(description.driver);
    if (!driver) return tl::unexpected(driver.error());
    spec.driver = *driver;
    spec.driver_cuda = CudaForDriver(spec.driver);
  }
  if (!description.os.empty()) {
    auto os = DescribeOs(description.os);
    if (!os) return tl::unexpected(os.error());
    spec.os_id = os->first;
    spec.os_version = os->second;
  }
  return spec;
}

}  // namespace dlrig
