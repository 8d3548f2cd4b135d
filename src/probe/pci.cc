#include "probe/pci.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/strings.h"
#include "knowledge/gpus.h"

namespace dlrig {
namespace {

constexpr unsigned kNvidiaVendor = 0x10de;
const char* const kPciIdsPaths[] = {"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids",
                                    "/usr/share/pci.ids"};

Result<unsigned> ReadHex(const Root& root, const std::string& path) {
  auto line = root.ReadLine(path);
  if (!line) return tl::unexpected(line.error());
  auto value = ParseInt(*line);
  if (!value || *value < 0) return Fail(ErrorKind::kMalformed, path + ": not a number: " + *line);
  return static_cast<unsigned>(*value);
}

Result<double> ReadSpeed(const Root& root, const std::string& path) {
  auto line = root.ReadLine(path);
  if (!line) return tl::unexpected(line.error());
  auto speed = ParseLinkSpeed(*line);
  if (!speed) return Fail(ErrorKind::kUnsupported, path + ": " + *line);
  return *speed;
}

Result<int> ReadInt(const Root& root, const std::string& path) {
  auto line = root.ReadLine(path);
  if (!line) return tl::unexpected(line.error());
  auto value = ParseInt(*line);
  if (!value) return Fail(ErrorKind::kMalformed, path + ": not a number: " + *line);
  return static_cast<int>(*value);
}

// The bound driver: the basename of the `driver` link, or a capture's `driver.name` file.
Result<std::string> ReadDriver(const Root& root, const std::string& dev) {
  auto link = root.ReadLink(dev + "/driver");
  if (link) return BaseName(*link);
  if (auto name = root.ReadLine(dev + "/driver.name")) return *name;
  if (link.error().kind == ErrorKind::kNotFound) return std::string();  // unbound
  return tl::unexpected(link.error());
}

std::string Hex4(unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", value);
  return buf;
}

PciIds LoadPciIds(const Root& root, std::string* source) {
  for (const char* path : kPciIdsPaths) {
    auto text = root.ReadFile(path, 16u << 20);
    if (!text && !root.IsHost()) {
      // The names are reference data, not a fact of the inspected tree: fall back to ours.
      auto host = Root::Open("/");
      if (host) text = host->ReadFile(path, 16u << 20);
    }
    if (text) {
      *source = path;
      return ParsePciIdsForVendor(*text, kNvidiaVendor);
    }
  }
  return {};
}

// Where pci.ids is absent or older than the GPU (Debian 12's is from 2023): the catalogue's
// name, in pci.ids' own form ("GH100 [H200 SXM 141GB]").
std::optional<std::string> CatalogName(unsigned vendor, unsigned device) {
  auto row = GpuCatalog::BuiltInRow(static_cast<uint16_t>(vendor), static_cast<uint16_t>(device));
  if (!row) return std::nullopt;
  return row->chip.empty() ? row->name : row->chip + " [" + row->name + "]";
}

}  // namespace

std::optional<double> ParseLinkSpeed(std::string_view text) {
  std::string s(Trim(text));
  double value = 0;
  if (std::sscanf(s.c_str(), "%lf GT/s", &value) != 1 || value <= 0) return std::nullopt;
  return value;
}

std::optional<int> PcieGeneration(double speed_gts) {
  const double rates[] = {2.5, 5, 8, 16, 32, 64, 128};
  for (int i = 0; i < 7; ++i)
    if (std::fabs(speed_gts - rates[i]) < 0.01) return i + 1;
  return std::nullopt;
}

PciIds ParsePciIdsForVendor(std::string_view text, unsigned vendor_id) {
  PciIds ids;
  bool in_vendor = false;
  unsigned device = 0;
  for (auto& line : SplitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != '\t') {
      if (in_vendor) break;  // the next vendor: done
      auto vid = ParseInt("0x" + line.substr(0, 4));
      in_vendor = vid && static_cast<unsigned>(*vid) == vendor_id && line.size() > 4;
      continue;
    }
    if (!in_vendor) continue;
    if (line.size() > 1 && line[1] != '\t') {
      auto did = ParseInt("0x" + line.substr(1, 4));
      if (!did || line.size() < 7) continue;
      device = static_cast<unsigned>(*did);
      ids.devices.emplace_back(device, std::string(Trim(line.substr(5))));
    } else if (line.size() > 12) {
      auto sv = ParseInt("0x" + line.substr(2, 4));
      auto sd = ParseInt("0x" + line.substr(7, 4));
      if (!sv || !sd) continue;
      ids.subsystems.push_back({{device, static_cast<unsigned>(*sv), static_cast<unsigned>(*sd)},
                                std::string(Trim(line.substr(11)))});
    }
  }
  return ids;
}

std::optional<std::string> PciIds::DeviceName(unsigned device_id) const {
  for (auto& [id, name] : devices)
    if (id == device_id) return name;
  return std::nullopt;
}

std::optional<std::string> PciIds::SubsystemName(unsigned device_id, unsigned sv,
                                                 unsigned sd) const {
  for (auto& [key, name] : subsystems)
    if (key[0] == device_id && key[1] == sv && key[2] == sd) return name;
  return std::nullopt;
}

PciFacts ProbePci(const ProbeContext& ctx) {
  const Root& root = ctx.root;
  PciFacts facts;
  const std::string base = "/sys/bus/pci/devices";
  auto entries = root.ListDir(base);
  if (!entries) {
    facts.devices = tl::unexpected(entries.error());
    return facts;
  }
  std::vector<PciDevice> devices;
  PciIds ids;
  bool ids_loaded = false;
  for (auto& entry : *entries) {
    std::string dev = base + "/" + entry.name;
    auto vendor = ReadHex(root, dev + "/vendor");
    if (!vendor) {  // it may be an NVIDIA device: unknown, not "not NVIDIA"
      Error e = vendor.error();
      // A dangling link's error names the missing target: say which device it was.
      if (e.message.find(entry.name) == std::string::npos)
        e.message = entry.name + ": " + e.message;
      facts.unreadable.push_back(std::move(e));
      continue;
    }
    if (*vendor != kNvidiaVendor) continue;
    if (!ids_loaded) {
      ids = LoadPciIds(root, &facts.ids_source);
      ids_loaded = true;
    }
    PciDevice d;
    d.address = entry.name;
    d.vendor_id = *vendor;
    d.device_id = ReadHex(root, dev + "/device").value_or(0);
    d.subsystem_vendor_id = ReadHex(root, dev + "/subsystem_vendor").value_or(0);
    d.subsystem_device_id = ReadHex(root, dev + "/subsystem_device").value_or(0);
    d.class_code = ReadHex(root, dev + "/class").value_or(0);
    auto name = ids.DeviceName(d.device_id);
    if (!name) name = CatalogName(d.vendor_id, d.device_id);
    d.name = name.value_or("device " + Hex4(d.device_id));
    d.subsystem_name =
        ids.SubsystemName(d.device_id, d.subsystem_vendor_id, d.subsystem_device_id).value_or("");
    d.driver = ReadDriver(root, dev);
    d.link_now.speed_gts = ReadSpeed(root, dev + "/current_link_speed");
    d.link_now.width = ReadInt(root, dev + "/current_link_width");
    d.link_max.speed_gts = ReadSpeed(root, dev + "/max_link_speed");
    d.link_max.width = ReadInt(root, dev + "/max_link_width");
    d.numa_node = ReadInt(root, dev + "/numa_node");
    d.local_cpulist = root.ReadLine(dev + "/local_cpulist");
    if (auto real = root.Resolve(dev)) d.sysfs_path = *real;
    if (auto recorded = root.ReadLine(dev + "/realpath")) d.sysfs_path = *recorded;
    devices.push_back(std::move(d));
  }
  if (devices.empty() && !facts.unreadable.empty()) {
    // Not one NVIDIA device among those read, and some could not be read: whether there is
    // a GPU is unknown.
    const Error& first = facts.unreadable.front();
    facts.devices = Fail(first.kind, fmt::format("the vendor of {} of {} PCI devices could not "
                                                 "be read ({}{})",
                                                 facts.unreadable.size(), entries->size(),
                                                 first.message,
                                                 facts.unreadable.size() > 1 ? ", ..." : ""));
    return facts;
  }
  facts.devices = std::move(devices);
  return facts;
}

std::optional<std::string> NormalizePciAddress(std::string_view text) {
  text = Trim(text);
  if (StartsWith(text, "PCI:")) text = text.substr(4);
  std::string function = "0";
  if (size_t dot = text.rfind('.'); dot != std::string_view::npos) {
    function = std::string(text.substr(dot + 1));
    text = text.substr(0, dot);
  }
  auto parts = Split(text, ':', true);
  if (parts.size() == 2) parts.insert(parts.begin(), "0000");
  if (parts.size() != 3 || function.size() != 1 ||
      !std::isdigit(static_cast<unsigned char>(function[0])))
    return std::nullopt;
  for (auto& p : parts)
    if (p.empty() || !std::all_of(p.begin(), p.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c));
        }))
      return std::nullopt;
  std::string domain = parts[0];
  // NVML writes an 8-digit domain ("00000000:01:00.0"); sysfs writes 4.
  while (domain.size() > 4 && domain[0] == '0') domain.erase(0, 1);
  if (domain.size() > 4 || parts[1].size() > 2 || parts[2].size() > 2) return std::nullopt;
  auto pad = [](std::string s, size_t n) {
    return std::string(n - std::min(n, s.size()), '0') + s;
  };
  return ToLower(
      fmt::format("{}:{}:{}.{}", pad(domain, 4), pad(parts[1], 2), pad(parts[2], 2), function));
}

}  // namespace dlrig
