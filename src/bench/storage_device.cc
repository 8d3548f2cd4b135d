#include "bench/storage_device.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>

#include "bench/limits.h"
#include "core/strings.h"
#include "probe/pci.h"

namespace dlrig::bench {

namespace {

constexpr int kMaxStackDepth = 8;  // dm on md on partitions is 3; loops in sysfs are bugs

bool IsPciAddress(std::string_view name) {
  // "0000:01:00.0": the kernel's own spelling, so a strict check is enough.
  if (name.size() != 12 || name[4] != ':' || name[7] != ':' || name[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11})
    if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

std::optional<std::string> ReadText(const Root& root, const std::string& path) {
  auto line = root.ReadLine(path);
  if (!line) return std::nullopt;
  std::string text(Trim(*line));
  if (text.empty()) return std::nullopt;
  return text;
}

LinkState ReadLinkState(const Root& root, const std::string& dev, std::string_view which) {
  LinkState link;
  if (auto speed = ReadText(root, fmt::format("{}/{}_link_speed", dev, which)))
    link.gts = ParseLinkSpeed(*speed);
  if (auto width = ReadText(root, fmt::format("{}/{}_link_width", dev, which))) {
    auto lanes = ParseInt(*width);
    if (lanes && *lanes > 0 && *lanes <= 64) link.lanes = static_cast<int>(*lanes);
  }
  return link;
}

/// True when a component of `path` is `prefix` followed by digits ("ata1", "usb2", "virtio0").
bool HasNumberedComponent(const std::string& path, std::string_view prefix) {
  for (const auto& part : Split(path, '/')) {
    if (part.size() <= prefix.size() || !StartsWith(part, prefix)) continue;
    auto digits = std::string_view(part).substr(prefix.size());
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(c) != 0; }))
      return true;
  }
  return false;
}

std::string Transport(const std::string& path, const std::string& name) {
  if (StartsWith(name, "nvme") || Contains(path, "/nvme/")) return "nvme";
  if (HasNumberedComponent(path, "usb")) return "usb";
  if (HasNumberedComponent(path, "virtio")) return "virtio";
  if (HasNumberedComponent(path, "ata")) return "sata";
  if (StartsWith(path, "/sys/devices/virtual/")) return "virtual";
  if (HasNumberedComponent(path, "host") && Contains(path, "/target")) return "scsi";
  return "unknown";
}

/// PCI functions with a link on the way up from `path`, the one nearest the disk first.
std::vector<PcieHop> PcieHops(const Root& root, const std::string& path,
                              std::optional<std::string>* endpoint) {
  std::vector<PcieHop> hops;
  std::string dir = path;
  while (dir != "/" && !dir.empty()) {
    std::string name = BaseName(dir);
    if (IsPciAddress(name)) {
      if (!*endpoint) *endpoint = name;
      PcieHop hop{name, ReadLinkState(root, dir, "current"), ReadLinkState(root, dir, "max")};
      if (hop.now.gts || hop.now.lanes || hop.max.gts || hop.max.lanes) hops.push_back(hop);
    }
    dir = DirName(dir);
  }
  return hops;
}

/// With native NVMe multipath the namespace hangs off a virtual subsystem; its controllers are
/// the siblings named nvmeN, and the first one's PCI path stands for the disk.
std::optional<std::string> MultipathController(const Root& root, const std::string& path) {
  auto entries = root.ListDir(DirName(path));
  if (!entries) return std::nullopt;
  for (const auto& e : *entries) {
    if (!HasNumberedComponent(e.name, "nvme")) continue;
    if (auto real = root.Resolve(DirName(path) + "/" + e.name)) return *real;
  }
  return std::nullopt;
}

std::string LinkName(const LinkState& link) {
  auto gen = link.gts ? PcieGeneration(*link.gts) : std::nullopt;
  std::string speed = gen        ? fmt::format("Gen{}", *gen)
                      : link.gts ? fmt::format("{:g} GT/s", *link.gts)
                                 : "Gen?";
  return link.lanes ? fmt::format("{} x{}", speed, *link.lanes) : speed + " x?";
}

std::string NoLinkReason(const StorageDisk& d) {
  std::string model = d.model ? fmt::format(" ({})", *d.model) : "";
  if (d.transport == "virtio")
    return fmt::format(
        "{}{} is a virtio disk: the host's storage behind it sets the limit, and "
        "it has no PCIe link to read; no link limit known",
        d.name, model);
  if (d.transport == "sata")
    return fmt::format(
        "{}{} is a SATA disk: its SATA link, not PCIe, limits it; no link limit "
        "known",
        d.name, model);
  if (d.transport == "usb")
    return fmt::format("{}{} is a USB disk: the USB link limits it; no link limit known", d.name,
                       model);
  if (d.transport == "virtual")
    return fmt::format("{} is a virtual block device: no physical link", d.name);
  return fmt::format("{}{}: no PCIe link found on its path in sysfs; no link limit known", d.name,
                     model);
}

void SetDiskLimit(const TensorRates& rates, StorageDisk& d,
                  const std::optional<std::string>& endpoint) {
  bool pcie_bound = d.transport == "nvme" || d.transport == "scsi" || d.transport == "unknown";
  if (!pcie_bound || d.pcie_path.empty()) {
    d.limit_reason = NoLinkReason(d);
    if (pcie_bound && endpoint) d.limit_reason += fmt::format(" (PCI function {})", *endpoint);
    return;
  }
  const PcieHop* narrowest = nullptr;
  for (const auto& hop : d.pcie_path) {
    if (!hop.now.gts || !hop.now.lanes) continue;
    auto bw = PcieLinkBandwidth(rates, *hop.now.gts, *hop.now.lanes);
    if (bw && (!d.limit || bw->gb_per_s < d.limit->gb_per_s)) {
      d.limit = bw;
      narrowest = &hop;
    }
  }
  if (!narrowest) {
    d.limit_reason = fmt::format("{}: the PCIe link speed of {} is unreadable", d.name,
                                 d.pcie_path.front().address);
    return;
  }
  const PcieHop& end = d.pcie_path.front();
  d.limit_reason = fmt::format("{} at {}: PCIe {} (max {})", d.name, end.address, LinkName(end.now),
                               LinkName(end.max));
  if (narrowest != &end)
    d.limit_reason += fmt::format("; narrowest link on the path: {} {}", narrowest->address,
                                  LinkName(narrowest->now));
  d.limit_reason += ": " + d.limit->formula;
}

StorageDisk DescribeDisk(const Root& root, const TensorRates& rates, const std::string& path) {
  StorageDisk d;
  d.name = BaseName(path);
  d.sysfs_path = path;
  d.transport = Transport(path, d.name);
  d.model = ReadText(root, path + "/device/model");
  if (auto rot = ReadText(root, path + "/queue/rotational")) d.rotational = *rot == "1";
  std::optional<std::string> endpoint;
  d.pcie_path = PcieHops(root, path, &endpoint);
  if (!endpoint && d.transport == "nvme") {
    if (auto controller = MultipathController(root, path)) {
      d.pcie_path = PcieHops(root, *controller, &endpoint);
      if (!d.model) d.model = ReadText(root, *controller + "/model");
    }
  }
  SetDiskLimit(rates, d, endpoint);
  return d;
}

/// From a block device's sysfs directory down to the whole disks that hold its data.
void CollectDisks(const Root& root, const TensorRates& rates, const std::string& path, int depth,
                  std::vector<StorageDisk>& disks) {
  if (depth > kMaxStackDepth) return;
  std::string disk = root.Exists(path + "/partition") ? DirName(path) : path;
  auto slaves = root.ListDir(disk + "/slaves");
  if (slaves && !slaves->empty()) {
    for (const auto& s : *slaves)
      if (auto real = root.Resolve("/sys/class/block/" + s.name))
        CollectDisks(root, rates, *real, depth + 1, disks);
    return;
  }
  for (const auto& known : disks)
    if (known.sysfs_path == disk) return;  // two partitions of one disk in one array
  disks.push_back(DescribeDisk(root, rates, disk));
}

/// For anonymous device numbers (btrfs, some bind mounts): the mount's source device in sysfs.
std::optional<std::string> FromMountInfo(const Root& root, const std::string& dev) {
  auto text = root.ReadFile("/proc/self/mountinfo");
  if (!text) return std::nullopt;
  for (const auto& line : SplitLines(*text)) {
    auto fields = Split(line, ' ');
    if (fields.size() < 3 || fields[2] != dev) continue;
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (dash == fields.end() || fields.end() - dash < 3) continue;
    const std::string& source = *(dash + 2);
    if (!StartsWith(source, "/dev/")) continue;
    auto real = root.Resolve(source);
    std::string name = BaseName(real ? *real : source);
    if (auto sys = root.Resolve("/sys/class/block/" + name)) return *sys;
  }
  return std::nullopt;
}

void SetDeviceLimit(StorageDevice& dev) {
  if (dev.disks.empty()) {
    if (dev.limit_reason.empty())
      dev.limit_reason = fmt::format("no disk found behind block device {}", dev.block_device);
    return;
  }
  double sum = 0;
  for (const auto& d : dev.disks) {
    if (!d.limit) {
      dev.limit_reason = d.limit_reason;
      return;
    }
    sum += d.limit->gb_per_s;
    dev.limit_confirmed = dev.limit_confirmed && d.limit->confirmed;
  }
  dev.limit_gb_per_s = sum;
  dev.limit_reason = dev.disks.size() == 1
                         ? dev.disks[0].limit_reason
                         : fmt::format(
                               "sum of the PCIe links of {} disks under {} (an upper "
                               "bound)",
                               dev.disks.size(), dev.name);
}

}  // namespace

std::optional<LinkBandwidth> PcieLinkBandwidth(const TensorRates& rates, double gts, int lanes) {
  auto gen = PcieGeneration(gts);
  if (!gen) return std::nullopt;
  const PcieRow* row = rates.Pcie(*gen);
  auto limit = PcieBandwidth(rates, *gen, lanes);  // the formula the GPU's link is judged by
  if (row == nullptr || !limit) return std::nullopt;
  LinkBandwidth bw;
  bw.gb_per_s = limit->value;
  bw.confirmed = row->confirmed;
  bw.formula = limit->formula + (row->confirmed ? "" : " (encoding unconfirmed)");
  std::string sources;
  for (const auto& s : row->sources) sources += (sources.empty() ? "" : ", ") + s;
  bw.source = fmt::format("data/tensor-rates.toml [[pcie]] gen {} ({})", *gen,
                          sources.empty() ? row->note : sources);
  return bw;
}

Result<StorageDevice> FindStorageDevice(const Root& root, const TensorRates& rates, unsigned major,
                                        unsigned minor) {
  StorageDevice dev;
  dev.block_device = fmt::format("{}:{}", major, minor);
  auto path = root.Resolve("/sys/dev/block/" + dev.block_device);
  if (!path && path.error().kind != ErrorKind::kNotFound) return tl::unexpected(path.error());
  if (!path) {
    auto source = FromMountInfo(root, dev.block_device);
    if (!source) {
      dev.limit_reason = fmt::format(
          "device {} is not a block device (tmpfs, overlay or a "
          "network filesystem): no disk, no link limit",
          dev.block_device);
      return dev;
    }
    path = *source;
  }
  dev.name = BaseName(*path);
  CollectDisks(root, rates, *path, 0, dev.disks);
  SetDeviceLimit(dev);
  return dev;
}

Result<StorageDevice> FindStorageDevice(const Root& root, unsigned major, unsigned minor) {
  const auto& rates = TensorRates::BuiltIn();
  if (!rates) return tl::unexpected(rates.error());
  return FindStorageDevice(root, *rates, major, minor);
}

Result<StorageDevice> ProbeStorageDevice(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0)
    return Fail(ErrorKindFromErrno(errno), fmt::format("cannot stat {}", dir));
  auto root = Root::Open("/");
  if (!root) return tl::unexpected(root.error());
  return FindStorageDevice(*root, major(st.st_dev), minor(st.st_dev));
}

}  // namespace dlrig::bench
