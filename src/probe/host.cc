#include "probe/host.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/strings.h"

namespace dlrig {
namespace {

const std::set<std::string> kDiskFsTypes = {"ext2", "ext3", "ext4", "xfs",  "btrfs", "zfs",
                                            "f2fs", "nfs",  "nfs4", "cifs", "lustre", "gpfs",
                                            "beegfs", "fuse.juicefs", "9p", "virtiofs", "overlay"};

// mountinfo escapes blanks as \040 and friends.
std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    auto octal = [&](size_t k) { return field[k] >= '0' && field[k] <= '7'; };
    if (field[i] == '\\' && i + 3 <= field.size() - 1 &&
        octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += field[i];
  }
  return out;
}

void FillSizes(const ProbeContext& ctx, Mount& mount) {
  if (ctx.root.IsHost()) {
    struct statvfs vfs;
    if (::statvfs(mount.mount_point.c_str(), &vfs) == 0) {
      mount.size_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
      mount.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      return;
    }
    mount.size_bytes = mount.free_bytes = Fail(ErrorKindFromErrno(errno),
                                               "statvfs " + mount.mount_point + " failed");
    return;
  }
  auto option = TmpfsSizeOption(mount.options);
  if (option) mount.size_bytes = *option;
  else mount.size_bytes = Fail(ErrorKind::kUnsupported, "size not recorded in a captured tree");
  mount.free_bytes = Fail(ErrorKind::kUnsupported, "free space not recorded in a captured tree");
}

Virtualization DetectVirtualization(const ProbeContext& ctx, const HostFacts& facts,
                                    const Result<std::string>& cpuinfo) {
  Virtualization v;
  const Root& root = ctx.root;
  if (facts.kernel && (Contains(ToLower(*facts.kernel), "microsoft") ||
                       Contains(ToLower(*facts.kernel), "wsl"))) {
    v.wsl = true;
    v.evidence.push_back("kernel release " + *facts.kernel);
  }
  if (root.Exists("/usr/lib/wsl/lib")) {
    v.wsl = true;
    v.evidence.push_back("/usr/lib/wsl/lib exists");
  }
  if (root.Exists("/.dockerenv")) {
    v.container = true;
    v.container_kind = "docker";
    v.evidence.push_back("/.dockerenv exists");
  }
  if (root.Exists("/run/.containerenv")) {
    v.container = true;
    v.container_kind = "podman";
    v.evidence.push_back("/run/.containerenv exists");
  }
  if (auto cgroup = root.ReadFile("/proc/1/cgroup", 64 * 1024)) {
    const std::pair<const char*, const char*> markers[] = {
        {"kubepods", "kubernetes"}, {"docker", "docker"}, {"containerd", "containerd"},
        {"libpod", "podman"},       {"lxc", "lxc"}};
    for (auto& [marker, kind] : markers) {
      if (Contains(*cgroup, marker)) {
        v.container = true;
        if (v.container_kind.empty()) v.container_kind = kind;
        v.evidence.push_back(std::string("/proc/1/cgroup mentions ") + marker);
        break;
      }
    }
  }
  if (cpuinfo) {
    for (auto& line : SplitLines(*cpuinfo)) {
      if (StartsWith(line, "flags") && Contains(line, " hypervisor")) {
        v.vm = true;
        v.evidence.push_back("CPU flag 'hypervisor'");
        break;
      }
    }
  }
  if (facts.kernel_cmdline && Contains(*facts.kernel_cmdline, "firecracker")) {
    v.vm = true;
    v.vm_kind = "firecracker";
    v.evidence.push_back("kernel command line mentions firecracker");
  }
  if (auto vendor = root.ReadLine("/sys/class/dmi/id/sys_vendor")) {
    const std::pair<const char*, const char*> vendors[] = {
        {"QEMU", "kvm"},           {"KVM", "kvm"},       {"Amazon EC2", "aws"},
        {"Google", "gce"},         {"Microsoft", "hyper-v"}, {"VMware", "vmware"},
        {"innotek", "virtualbox"}, {"Xen", "xen"}};
    for (auto& [name, kind] : vendors) {
      if (Contains(*vendor, name)) {
        v.vm = true;
        if (v.vm_kind.empty()) v.vm_kind = kind;
        v.evidence.push_back("DMI vendor " + *vendor);
        break;
      }
    }
  }
  return v;
}

}  // namespace

OsRelease ParseOsRelease(std::string_view text) {
  auto kv = ParseKeyValues(text);
  OsRelease os;
  os.id = Lookup(kv, "ID").value_or("");
  os.version_id = Lookup(kv, "VERSION_ID").value_or("");
  os.pretty_name = Lookup(kv, "PRETTY_NAME").value_or(Lookup(kv, "NAME").value_or(""));
  return os;
}

Result<CpuInfo> ParseCpuInfo(std::string_view text) {
  CpuInfo cpu;
  std::set<std::string> sockets;
  std::map<std::string, int> cores_per_socket, threads_per_socket;
  std::string socket = "0";
  for (auto& line : SplitLines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key(Trim(std::string_view(line).substr(0, colon)));
    std::string value(Trim(std::string_view(line).substr(colon + 1)));
    if (key == "processor") ++cpu.threads;
    else if (key == "model name" && cpu.model.empty()) cpu.model = value;
    else if (key == "physical id") sockets.insert(socket = value);
    else if (key == "cpu cores") cores_per_socket[socket] = static_cast<int>(ParseInt(value).value_or(0));
    else if (key == "siblings") threads_per_socket[socket] = static_cast<int>(ParseInt(value).value_or(0));
  }
  if (cpu.threads == 0) return Fail(ErrorKind::kMalformed, "no 'processor' entries");
  cpu.sockets = sockets.empty() ? 1 : static_cast<int>(sockets.size());
  for (auto& [id, cores] : cores_per_socket) cpu.cores += cores;
  // A trimmed cpuinfo (captures keep few "processor" blocks) still says siblings per socket.
  int siblings = 0;
  for (auto& [id, n] : threads_per_socket) siblings += n;
  cpu.threads = std::max(cpu.threads, siblings);
  if (cpu.cores == 0) cpu.cores = cpu.threads;
  return cpu;
}

Result<MemInfo> ParseMemInfo(std::string_view text) {
  MemInfo mem;
  for (auto& line : SplitLines(text)) {
    auto fields = Split(line, ' ');
    if (fields.size() < 2) continue;
    auto kib = ParseInt(fields[1]);
    if (!kib) continue;
    if (fields[0] == "MemTotal:") mem.total_bytes = static_cast<uint64_t>(*kib) * 1024;
    if (fields[0] == "MemAvailable:") mem.available_bytes = static_cast<uint64_t>(*kib) * 1024;
  }
  if (mem.total_bytes == 0) return Fail(ErrorKind::kMalformed, "no MemTotal line");
  return mem;
}

std::vector<Mount> ParseMountInfo(std::string_view text) {
  std::vector<Mount> mounts;
  for (auto& line : SplitLines(text)) {
    auto fields = Split(line, ' ');
    size_t dash = 0;
    for (size_t i = 6; i < fields.size(); ++i)
      if (fields[i] == "-") { dash = i; break; }
    if (dash == 0 || dash + 2 >= fields.size()) continue;
    Mount m;
    m.mount_point = Unescape(fields[4]);
    m.fs_type = fields[dash + 1];
    m.source = Unescape(fields[dash + 2]);
    m.options = dash + 3 < fields.size() ? fields[dash + 3] : "";
    std::erase_if(mounts, [&](const Mount& old) { return old.mount_point == m.mount_point; });
    mounts.push_back(std::move(m));
  }
  return mounts;
}

std::optional<uint64_t> TmpfsSizeOption(std::string_view options) {
  for (auto& opt : Split(options, ',')) {
    if (!StartsWith(opt, "size=")) continue;
    std::string value = opt.substr(5);
    uint64_t scale = 1;
    if (!value.empty()) {
      char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(value.back())));
      if (unit == 'k') scale = 1ull << 10;
      if (unit == 'm') scale = 1ull << 20;
      if (unit == 'g') scale = 1ull << 30;
      if (scale != 1) value.pop_back();
    }
    if (auto n = ParseInt(value)) return static_cast<uint64_t>(*n) * scale;
  }
  return std::nullopt;
}

std::optional<std::string> MachineFromUname(std::string_view text) {
  for (const std::string& word : Split(Trim(text), ' '))
    for (const char* arch : {"x86_64", "aarch64", "ppc64le", "sbsa", "i686", "armv7l"})
      if (word == arch) return word;
  return std::nullopt;
}

HostFacts ProbeHost(const ProbeContext& ctx) {
  const Root& root = ctx.root;
  HostFacts facts;
  if (root.IsHost()) {
    struct utsname uts {};
    facts.machine = ::uname(&uts) == 0 ? Result<std::string>(uts.machine)
                                       : Fail(ErrorKind::kIo, "uname failed");
  } else if (auto text = root.ReadFile("/uname.txt", 4096)) {
    auto m = MachineFromUname(*text);
    facts.machine = m ? Result<std::string>(*m) : Fail(ErrorKind::kMalformed, "uname.txt names no architecture");
  } else {
    facts.machine = tl::unexpected(text.error());
  }
  auto os_text = root.ReadFile("/etc/os-release", 64 * 1024);
  if (!os_text && os_text.error().kind == ErrorKind::kNotFound)
    os_text = root.ReadFile("/usr/lib/os-release", 64 * 1024);
  if (os_text) facts.os = ParseOsRelease(*os_text);
  else facts.os = tl::unexpected(os_text.error());
  facts.kernel = root.ReadLine("/proc/sys/kernel/osrelease");
  facts.kernel_cmdline = root.ReadLine("/proc/cmdline");
  auto cpuinfo = root.ReadFile("/proc/cpuinfo");
  facts.virt = DetectVirtualization(ctx, facts, cpuinfo);
  facts.cpu = cpuinfo ? ParseCpuInfo(*cpuinfo) : tl::unexpected(cpuinfo.error());
  auto meminfo = root.ReadFile("/proc/meminfo", 64 * 1024);
  facts.memory = meminfo ? ParseMemInfo(*meminfo) : tl::unexpected(meminfo.error());

  auto mountinfo = root.ReadFile("/proc/self/mountinfo");
  if (!mountinfo) {
    facts.disks = tl::unexpected(mountinfo.error());
    facts.dev_shm = tl::unexpected(mountinfo.error());
    return facts;
  }
  std::vector<Mount> disks;
  facts.dev_shm = Fail(ErrorKind::kNotFound, "/dev/shm is not mounted");
  for (auto& m : ParseMountInfo(*mountinfo)) {
    if (m.mount_point == "/dev/shm") {
      FillSizes(ctx, m);
      facts.dev_shm = m;
    } else if (kDiskFsTypes.count(m.fs_type) && !StartsWith(m.mount_point, "/proc") &&
               !StartsWith(m.mount_point, "/sys")) {
      FillSizes(ctx, m);
      disks.push_back(std::move(m));
    }
  }
  facts.disks = std::move(disks);
  return facts;
}

}  // namespace dlrig
