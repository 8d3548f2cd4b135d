#include "plan/machine.h"

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "knowledge/architectures.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/gpus.h"
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
  return gpu;
}

/// The driver's CUDA, else the newest CUDA whose own driver the installed one reaches.
std::optional<Version> CudaForDriver(const std::optional<Version>& driver) {
  const auto& table = CudaDrivers::BuiltIn();
  if (!driver || !table) return std::nullopt;
  return table->NewestCudaFor(*driver);
}

// Product names are matched on lower-case words, without the brand words people leave out
// ("NVIDIA GeForce RTX 4090" = "RTX 4090"), so "4090" finds it but "A10" does not find "A100".
std::vector<std::string> NameWords(std::string_view name) {
  static const std::set<std::string> kBrand = {"nvidia", "geforce", "tesla", "quadro"};
  std::vector<std::string> words;
  for (std::string& w : Split(ToLower(name), ' '))
    if (!kBrand.contains(w)) words.push_back(std::move(w));
  return words;
}

bool ContainsRun(const std::vector<std::string>& words, const std::vector<std::string>& run) {
  if (run.empty() || run.size() > words.size()) return false;
  for (size_t i = 0; i + run.size() <= words.size(); ++i)
    if (std::equal(run.begin(), run.end(), words.begin() + static_cast<long>(i))) return true;
  return false;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string JoinWords(const std::vector<std::string>& words, size_t from, size_t count) {
  std::string out;
  for (size_t i = from; i < from + count && i < words.size(); ++i)
    out += (out.empty() ? "" : " ") + words[i];
  return out;
}

/// How far `query` is from the closest run of words of `name` (as many words as the query).
size_t NameDistance(const std::vector<std::string>& query, const std::vector<std::string>& name) {
  std::string q = JoinWords(query, 0, query.size());
  size_t best = EditDistance(q, JoinWords(name, 0, name.size()));
  for (size_t i = 0; i + query.size() <= name.size(); ++i)
    best = std::min(best, EditDistance(q, JoinWords(name, i, query.size())));
  return best;
}

std::string NearestNames(const std::vector<GpuRow>& rows, const std::vector<std::string>& query) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const GpuRow& row : rows) scored.emplace_back(NameDistance(query, NameWords(row.name)), row.name);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < scored.size() && i < 5; ++i)
    out += (i ? ", " : "") + ("\"" + scored[i].second + "\"");
  return out;
}

Result<PlanGpu> DescribeGpu(std::string_view text) {
  const auto& catalog = GpuCatalog::BuiltIn();
  if (!catalog) return tl::unexpected(catalog.error());
  std::vector<std::string> query = NameWords(Trim(text));
  if (query.empty())
    return Fail(ErrorKind::kMalformed, "--gpu is empty; name a product such as \"RTX 4090\"");
  std::vector<const GpuRow*> matches;
  for (const GpuRow& row : catalog->rows()) {
    std::vector<std::string> words = NameWords(row.name);
    if (words == query) return GpuFromRow(row, std::nullopt);  // an exact name wins
    if (ContainsRun(words, query)) matches.push_back(&row);
  }
  if (matches.empty())
    return Fail(ErrorKind::kMalformed, "unknown GPU \"" + std::string(Trim(text)) +
                                           "\" (not in data/gpus.toml); nearest names: " +
                                           NearestNames(catalog->rows(), query));
  // Several boards of one chip ("A100" = SXM4/PCIe, 40/80 GB) plan alike: only the compute
  // capability matters to the resolver. Different chips under one word are ambiguous.
  const GpuRow& first = *matches.front();
  bool same_chip = std::all_of(matches.begin(), matches.end(), [&](const GpuRow* r) {
    return r->cc_major == first.cc_major && r->cc_minor == first.cc_minor &&
           r->architecture == first.architecture;
  });
  if (matches.size() == 1) return GpuFromRow(first, std::nullopt);
  if (same_chip) {
    PlanGpu gpu = GpuFromRow(first, std::nullopt);
    gpu.name = std::string(Trim(text));
    return gpu;
  }
  std::string names;
  for (size_t i = 0; i < matches.size() && i < 5; ++i)
    names += (i ? ", " : "") + ("\"" + matches[i]->name + "\"");
  return Fail(ErrorKind::kMalformed, "GPU name \"" + std::string(Trim(text)) +
                                         "\" is ambiguous; it matches " + names);
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
  const auto& catalog = GpuCatalog::BuiltIn();
  for (const PciDevice* dev : NvidiaGpus(inv)) {
    auto id = static_cast<uint16_t>(dev->device_id);
    const GpuRow* row = catalog ? catalog->Find(kNvidia, id) : nullptr;
    if (row) {
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
  if (!description.gpu.empty()) {
    auto gpu = DescribeGpu(description.gpu);
    if (!gpu) return tl::unexpected(gpu.error());
    spec.gpus.push_back(std::move(*gpu));
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
