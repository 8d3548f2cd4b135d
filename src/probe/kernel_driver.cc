#include "probe/kernel_driver.h"

#include <map>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr const char* kSecureBootVar =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";
const char* const kModprobeDirs[] = {"/etc/modprobe.d", "/lib/modprobe.d", "/usr/lib/modprobe.d",
                                     "/run/modprobe.d"};
// Where packages, DKMS and the .run installer put nvidia*.ko under /lib/modules/<release>.
const char* const kModuleSubdirs[] = {"updates/dkms", "updates", "extra", "weak-updates",
                                      "kernel/drivers/video", "kernel", "misc", "video"};
constexpr int kMaxModuleDepth = 2;

template <class T>
Result<T> Forward(const Error& e) { return tl::unexpected(e); }

// uid/gid → name from the inspected tree's /etc/passwd or /etc/group.
std::map<uint32_t, std::string> IdNames(const Root& root, const char* path) {
  std::map<uint32_t, std::string> names;
  auto text = root.ReadFile(path, 4u << 20);
  if (!text) return names;
  for (auto& line : SplitLines(*text)) {
    auto f = Split(line, ':', true);
    if (f.size() < 3) continue;
    if (auto id = ParseInt(f[2]); id && *id >= 0) names.emplace(static_cast<uint32_t>(*id), f[0]);
  }
  return names;
}

std::string NameOf(const std::map<uint32_t, std::string>& names, uint32_t id) {
  auto it = names.find(id);
  return it == names.end() ? std::to_string(id) : it->second;
}

void StatNodes(const Root& root, const std::string& dir, std::vector<DeviceNode>& out) {
  auto entries = root.ListDir(dir);
  if (!entries) return;
  auto users = IdNames(root, "/etc/passwd");
  auto groups = IdNames(root, "/etc/group");
  for (auto& e : *entries) {
    if (!StartsWith(e.name, "nvidia")) continue;
    DeviceNode node;
    node.path = JoinPath(dir, e.name);
    auto info = root.LStat(node.path);
    if (!info) continue;
    const char types[] = {'-', 'd', 'l', 'c', 'b', '?'};
    node.type = types[static_cast<int>(info->type)];
    node.mode = info->mode;
    node.owner = NameOf(users, info->uid);
    node.group = NameOf(groups, info->gid);
    if (info->type == FileType::kCharDevice || info->type == FileType::kBlockDevice) {
      node.major = static_cast<int>(info->rdev_major);
      node.minor = static_cast<int>(info->rdev_minor);
    }
    out.push_back(node);
    if (info->type == FileType::kDirectory && dir == "/dev") StatNodes(root, node.path, out);
  }
}

void ProbeDevices(const Root& root, KernelDriverFacts& facts) {
  auto dev = root.ListDir("/dev");
  if (dev) {
    std::vector<DeviceNode> nodes;
    StatNodes(root, "/dev", nodes);
    facts.devices = std::move(nodes);
    facts.devices_source = "/dev";
    return;
  }
  if (auto listing = root.ReadFile("/dev.listing", 1u << 20)) {
    facts.devices_source = "dev.listing (captured ls -l /dev/nvidia*)";
    auto nodes = ParseDevListing(*listing);
    // A listing that names nvidia nodes none of which parse is not "no nodes".
    if (nodes.empty() && listing->find("/dev/nvidia") != std::string::npos)
      facts.devices = Fail(ErrorKind::kMalformed, "dev.listing: no line in `ls -l` form");
    else
      facts.devices = std::move(nodes);
    return;
  }
  facts.devices = Forward<std::vector<DeviceNode>>(dev.error());
}

void ProbeNouveau(const Root& root, NouveauConfig& config) {
  for (const char* dir : kModprobeDirs) {
    auto entries = root.ListDir(dir);
    if (!entries) continue;
    for (auto& e : *entries) {
      if (!EndsWith(e.name, ".conf")) continue;
      std::string path = JoinPath(dir, e.name);
      if (auto text = root.ReadFile(path, 1u << 20)) ParseModprobeConf(*text, path, config);
    }
  }
  auto cmdline = root.ReadLine("/proc/cmdline");
  if (!cmdline) return;
  for (auto& word : Split(*cmdline, ' ')) {
    bool black = StartsWith(word, "modprobe.blacklist=") && Contains(word, "nouveau");
    bool modeset = word == "nouveau.modeset=0";
    config.blacklisted |= black;
    config.modeset_off |= modeset;
    if (black || modeset) config.evidence.push_back("/proc/cmdline: " + word);
  }
}

void FindModules(const Root& root, const std::string& dir, int depth,
                 std::vector<std::string>& out) {
  auto entries = root.ListDir(dir);
  if (!entries) return;
  for (auto& e : *entries) {
    std::string path = JoinPath(dir, e.name);
    bool ko = EndsWith(e.name, ".ko") || EndsWith(e.name, ".ko.xz") ||
              EndsWith(e.name, ".ko.zst") || EndsWith(e.name, ".ko.gz");
    if (ko && StartsWith(e.name, "nvidia")) {
      if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
    } else if (e.type == FileType::kDirectory && depth < kMaxModuleDepth &&
               (depth > 0 || StartsWith(e.name, "nvidia") || !EndsWith(dir, "/kernel"))) {
      FindModules(root, path, depth + 1, out);
    }
  }
}

Result<std::vector<std::string>> ProbeModuleFiles(const Root& root, const std::string& kernel) {
  std::string base = "/lib/modules/" + kernel;
  if (auto info = root.Stat(base); !info)
    return Fail(info.error().kind, base + " cannot be read (" + info.error().message + ")");
  std::vector<std::string> found;
  for (const char* sub : kModuleSubdirs) FindModules(root, JoinPath(base, sub), 0, found);
  return found;
}

Result<std::vector<DkmsBuild>> ProbeDkms(const Root& root) {
  auto modules = root.ListDir("/var/lib/dkms");
  if (!modules) return Forward<std::vector<DkmsBuild>>(modules.error());
  std::vector<DkmsBuild> builds;
  for (auto& m : *modules) {
    if (!StartsWith(m.name, "nvidia")) continue;
    std::string mdir = "/var/lib/dkms/" + m.name;
    auto versions = root.ListDir(mdir);
    if (!versions) continue;
    for (auto& v : *versions) {
      if (v.type != FileType::kDirectory) continue;  // kernel-<release>-<arch> links
      auto kernels = root.ListDir(JoinPath(mdir, v.name));
      if (!kernels) continue;
      for (auto& k : *kernels) {
        if (k.name == "source" || k.name == "build" || k.type != FileType::kDirectory) continue;
        auto arches = root.ListDir(JoinPath(JoinPath(mdir, v.name), k.name));
        if (!arches) continue;
        for (auto& a : *arches) {
          std::string link = mdir + "/kernel-" + k.name + "-" + a.name;
          builds.push_back({m.name, v.name, k.name, a.name, root.Exists(link)});
        }
      }
    }
  }
  return builds;
}

void ProbeSecureBoot(const Root& root, KernelDriverFacts& facts) {
  if (auto bytes = root.ReadFile(kSecureBootVar, 64)) {
    facts.secure_boot = ParseSecureBootVar(*bytes);
    facts.secure_boot_source = kSecureBootVar;
    return;
  } else if (bytes.error().kind != ErrorKind::kNotFound) {
    facts.secure_boot = Forward<SecureBoot>(bytes.error());
    return;
  }
  if (auto listing = root.ReadFile("/efivars.listing", 1u << 20); listing && !root.IsHost()) {
    // A capture keeps `ls /sys/firmware/efi/efivars` at its top; empty: not booted by EFI.
    if (Trim(*listing).empty()) {
      facts.secure_boot = SecureBoot::kNoEfi;
      facts.secure_boot_source = "efivars.listing (empty)";
    } else {
      facts.secure_boot = Fail(ErrorKind::kNotFound, "EFI variables listed, value not captured");
    }
  } else if (root.IsDir("/sys/firmware/efi")) {
    facts.secure_boot = Fail(ErrorKind::kNotFound, "EFI boot but no SecureBoot variable");
  } else if (root.IsDir("/sys/firmware") || root.IsDir("/sys/class")) {
    facts.secure_boot = SecureBoot::kNoEfi;
    facts.secure_boot_source = "/sys/firmware/efi absent";
  } else {
    facts.secure_boot = Fail(ErrorKind::kNotFound, "/sys/firmware not present in this tree");
  }
}

Result<std::vector<DriverGpu>> ProbeGpus(const Root& root) {
  const std::string base = "/proc/driver/nvidia/gpus";
  auto entries = root.ListDir(base);
  if (!entries) return Forward<std::vector<DriverGpu>>(entries.error());
  std::vector<DriverGpu> gpus;
  for (auto& e : *entries) {
    auto text = root.ReadFile(base + "/" + e.name + "/information", 64 * 1024);
    DriverGpu gpu = ParseGpuInformation(e.name, text.value_or(""));
    if (!text) gpu.fields.emplace_back("error", text.error().message);
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

}  // namespace

KernelDriverFacts ProbeKernelDriver(const ProbeContext& ctx) {
  const Root& root = ctx.root;
  KernelDriverFacts facts;
  auto text = root.ReadFile("/proc/driver/nvidia/version", 64 * 1024);
  facts.proc_version = text ? ParseNvidiaProcVersion(*text)
                            : Forward<NvidiaProcVersion>(text.error());
  facts.module_version = root.ReadLine("/sys/module/nvidia/version");
  auto modules = root.ReadFile("/proc/modules", 4u << 20);
  facts.loaded = modules ? Result<std::vector<LoadedModule>>(ParseProcModules(*modules))
                         : Forward<std::vector<LoadedModule>>(modules.error());
  ProbeNouveau(root, facts.nouveau);
  facts.running_kernel = root.ReadLine("/proc/sys/kernel/osrelease");
  facts.module_files = facts.running_kernel
                           ? ProbeModuleFiles(root, *facts.running_kernel)
                           : Forward<std::vector<std::string>>(facts.running_kernel.error());
  facts.dkms = ProbeDkms(root);
  ProbeSecureBoot(root, facts);
  ProbeDevices(root, facts);
  facts.gpus = ProbeGpus(root);
  return facts;
}

}  // namespace dlrig
