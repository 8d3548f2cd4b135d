// Rules that put each GPU's architecture against what is installed: the driver branch and
// its kernel module flavour, the toolkit nvcc, and the GPU code compiled into frameworks.
// The GPU's compute capability comes from the catalogue by PCI id (data/gpus.toml).
#include <fmt/format.h>

#include <map>

#include "core/strings.h"
#include "core/version.h"
#include "knowledge/architectures.h"
#include "knowledge/driver_branches.h"
#include "knowledge/gpus.h"
#include "knowledge/pytorch_builds.h"
#include "probe/fatbin.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

struct KnownGpu {
  const PciDevice* device;
  GpuRow row;  ///< its built-in catalogue row
  std::string Cc() const { return fmt::format("{}.{}", row.cc_major, row.cc_minor); }
  ComputeCapability cc() const { return {row.cc_major, row.cc_minor}; }
};

std::vector<KnownGpu> CatalogGpus(const Inventory& inv) {
  std::vector<KnownGpu> out;
  for (const PciDevice* d : NvidiaGpus(inv))
    if (auto row = GpuCatalog::BuiltInRow(static_cast<uint16_t>(d->vendor_id), static_cast<uint16_t>(d->device_id)))
      out.push_back({d, std::move(*row)});
  return out;
}

// The loaded module's branch against the GPU: too new a branch for an old GPU, too old for a
// new one, or the proprietary flavour where only the open module drives the GPU.
void DriverVersusGpu(const Inventory& inv, const std::vector<KnownGpu>& gpus, Findings& out) {
  const auto& k = inv.kernel_driver;
  const auto& table = DriverBranches::BuiltIn();
  if (!k.proc_version || !table) return;
  auto driver = Version::Parse(k.proc_version->version);
  if (!driver) return;
  for (const KnownGpu& g : gpus) {
    const GpuSupportRow* support = table->SupportFor(g.row.cc_major, g.row.cc_minor);
    if (support == nullptr) continue;
    std::vector<std::string> evidence = {
        fmt::format("GPU {}: {} (compute capability {}, {})", g.device->address, g.row.name, g.Cc(),
                    g.row.architecture),
        "/proc/driver/nvidia/version: " + k.proc_version->version +
            (k.proc_version->open_module ? " (open kernel module)" : " (proprietary kernel module)")};
    std::map<std::string, std::string> vars = {{"address", g.device->address}, {"gpu", g.row.name},
                                               {"architecture", g.row.architecture},
                                               {"driver", k.proc_version->version},
                                               {"driver_branch", std::to_string(driver->major())}};
    if (support->last_branch && driver->major() > *support->last_branch) {
      vars["last_branch"] = std::to_string(*support->last_branch);
      out.push_back({.id = "legacy-gpu-unsupported-by-driver", .subject = "GPU " + g.device->address,
                     .evidence = evidence, .vars = vars});
    } else if (support->min_branch && driver->major() < *support->min_branch) {
      vars["min_branch"] = std::to_string(*support->min_branch);
      out.push_back({.id = "driver-too-old-for-gpu", .subject = "GPU " + g.device->address,
                     .evidence = evidence, .vars = vars});
    } else if (support->open_module_required && !k.proc_version->open_module) {
      out.push_back({.id = "open-kernel-module-required", .subject = "GPU " + g.device->address,
                     .evidence = evidence, .vars = vars});
    }
  }
}

// The toolkit extension builds use cannot compile for a GPU in this machine.
void NvccVersusGpu(const Inventory& inv, const std::vector<KnownGpu>& gpus, Findings& out) {
  const CudaToolkit* tk = BuildToolkit(inv.toolkits);
  if (tk == nullptr || !tk->version) return;
  auto cuda = Version::Parse(*tk->version);
  const auto& archs = Architectures::BuiltIn();
  if (!cuda || !archs) return;
  for (const KnownGpu& g : gpus) {
    if (archs->CudaCanTarget(*cuda, g.row.cc_major, g.row.cc_minor).value_or(true)) continue;
    const ArchRow* row = archs->Find(g.row.cc_major, g.row.cc_minor);
    std::string when = row && row->removed_in_cuda ? "removed in CUDA " + row->removed_in_cuda->MajorMinor()
                       : row && row->first_cuda   ? "first in CUDA " + row->first_cuda->MajorMinor()
                                                  : "";
    out.push_back({.id = "nvcc-unsupported-gpu-arch", .subject = tk->path,
                   .evidence = {fmt::format("{}: CUDA {}", tk->path, *tk->version),
                                fmt::format("GPU {}: {} is sm_{}{} ({})", g.device->address, g.row.name,
                                            g.row.cc_major, g.row.cc_minor, when)},
                   .vars = {{"cuda", *tk->version}, {"gpu", g.row.name}, {"cc", g.Cc()},
                            {"when", when}}});
    return;
  }
}

// What GPU code a torch carries: the fatbin of its libtorch_cuda.so when it was read, else
// the arch list data/pytorch.toml records for that release and variant.
struct TorchCode {
  FatbinScan scan;
  std::string evidence;
};

std::optional<TorchCode> CodeOf(const Framework& fw) {
  if (fw.kernels && *fw.kernels && (*fw.kernels)->has_fatbin_section)
    return TorchCode{**fw.kernels, fw.kernels_file + " (fatbin)"};
  const auto& builds = PytorchBuilds::BuiltIn();
  auto version = fw.version ? Version::Parse(*fw.version) : std::nullopt;
  if (!builds || !version) return std::nullopt;
  const TorchBuild* build = builds->Find(*version);
  if (build == nullptr || build->archs.empty()) return std::nullopt;
  TorchCode code;
  for (const CudaArch& a : build->archs) {
    code.scan.sass.push_back({GpuCodeTarget::Kind::kSass, a.major, a.minor, 0});
    if (a.ptx) code.scan.ptx.push_back({GpuCodeTarget::Kind::kPtx, a.major, a.minor, 0});
  }
  code.evidence = fmt::format("torch {} {} arch list {} (data/pytorch.toml{})", build->release.MajorMinor(),
                              build->variant, build->arch_list, build->confirmed ? "" : ", unconfirmed");
  return code;
}

// A CUDA torch with no kernels the GPU can run: older than everything it carries ("too old
// for the framework"), or a newer GPU than its SASS with no PTX to JIT ("no kernel image").
void TorchVersusGpu(const Inventory& inv, const std::vector<KnownGpu>& gpus, Findings& out) {
  for (const auto& env : inv.python.envs)
    for (const auto& fw : env.frameworks) {
      if (fw.name != "torch" || !fw.built_for_cuda || fw.built_for_cuda->empty()) continue;
      auto code = CodeOf(fw);
      if (!code || code->scan.sass.empty()) continue;
      for (const KnownGpu& g : gpus) {
        if (PickKernelImage(code->scan, g.cc()).how != KernelImageChoice::How::kNone) continue;
        const GpuCodeTarget& oldest = code->scan.sass.front();
        bool too_old = g.row.cc_major * 10 + g.row.cc_minor < oldest.major * 10 + oldest.minor;
        out.push_back({.id = too_old ? "gpu-too-old-for-framework" : "no-kernel-image-arch-missing",
                       .subject = env.prefix,
                       .evidence = {fmt::format("GPU {}: {} (compute capability {})", g.device->address,
                                                g.row.name, g.Cc()),
                                    code->evidence + ": " + TargetNames(code->scan)},
                       .vars = {{"env", env.prefix}, {"torch", fw.version.value_or("?")},
                                {"gpu", g.row.name}, {"cc", g.Cc()},
                                {"sm", fmt::format("sm_{}{}", g.row.cc_major, g.row.cc_minor)},
                                {"oldest", fmt::format("{}.{}", oldest.major, oldest.minor)}}});
        break;
      }
    }
}

}  // namespace

void GpuCompatRules(const Inventory& inv, Findings& out) {
  auto gpus = CatalogGpus(inv);
  if (gpus.empty()) return;
  DriverVersusGpu(inv, gpus, out);
  NvccVersusGpu(inv, gpus, out);
  TorchVersusGpu(inv, gpus, out);
}

}  // namespace dlrig
