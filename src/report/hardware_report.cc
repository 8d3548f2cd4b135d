#include "report/hardware_report.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace dlrig {
namespace {

std::string LinkText(const PcieLink& link) {
  std::string speed = link.speed_gts ? fmt::format("{:g} GT/s", *link.speed_gts) : "?";
  if (link.speed_gts)
    if (auto gen = PcieGeneration(*link.speed_gts)) speed = fmt::format("Gen{} ({})", *gen, speed);
  std::string width = link.width ? fmt::format("x{}", *link.width) : "x?";
  return speed + " " + width;
}

json LinkJson(const PcieLink& link) {
  json j;
  j["speed_gts"] = FactJson(link.speed_gts);
  if (link.speed_gts) {
    auto gen = PcieGeneration(*link.speed_gts);
    j["generation"] = gen ? json(*gen) : json(nullptr);
  }
  j["width"] = FactJson(link.width);
  return j;
}

json MountJson(const Mount& m) {
  return json{{"mount_point", m.mount_point}, {"fs_type", m.fs_type},
              {"source", m.source},           {"size_bytes", FactJson(m.size_bytes)},
              {"free_bytes", FactJson(m.free_bytes)}};
}

std::string MountText(const Mount& m) {
  std::string size = m.size_bytes ? HumanBytes(*m.size_bytes) : "size ?";
  std::string free = m.free_bytes ? HumanBytes(*m.free_bytes) + " free" : "";
  return fmt::format("{} {} ({}{}{})", m.fs_type, m.source, size, free.empty() ? "" : ", ", free);
}

}  // namespace

void RenderHardware(TextWriter& out, const HostFacts& host, const PciFacts& pci) {
  out.Section("hardware");
  out.Fact("os", host.os, [](const OsRelease& os) { return os.pretty_name; });
  out.Fact("kernel", host.kernel, [](const std::string& k) { return k; });
  const Virtualization& v = host.virt;
  std::vector<std::string> kinds;
  if (v.wsl) kinds.push_back("WSL");
  if (v.vm) kinds.push_back(v.vm_kind.empty() ? "virtual machine" : "VM (" + v.vm_kind + ")");
  if (v.container) kinds.push_back("container (" + v.container_kind + ")");
  out.Item("platform", kinds.empty() ? "bare metal (no sign of VM, WSL or container)"
                                     : fmt::format("{}", fmt::join(kinds, ", ")));
  for (auto& e : v.evidence) out.Detail(e);
  out.Fact("cpu", host.cpu, [](const CpuInfo& c) {
    return fmt::format("{} ({} socket{}, {} cores, {} threads)", c.model, c.sockets,
                       c.sockets == 1 ? "" : "s", c.cores, c.threads);
  });
  out.Fact("memory", host.memory, [](const MemInfo& m) {
    return fmt::format("{} ({} available)", HumanBytes(m.total_bytes), HumanBytes(m.available_bytes));
  });
  if (host.disks) {
    if (host.disks->empty()) out.Item("disks", "none found in mountinfo");
    for (auto& m : *host.disks) out.Item("disk " + m.mount_point, MountText(m));
  } else {
    out.Unknown("disks", host.disks.error());
  }
  out.Fact("/dev/shm", host.dev_shm, [](const Mount& m) {
    return m.size_bytes ? HumanBytes(*m.size_bytes) : "mounted, size unknown";
  });

  if (!pci.devices) {
    out.Unknown("nvidia pci devices", pci.devices.error());
    return;
  }
  if (pci.devices->empty()) out.Item("nvidia pci devices", "none on the PCI bus", Colour::kYellow);
  for (auto& d : *pci.devices) {
    std::string driver = !d.driver ? "driver ?" : d.driver->empty() ? "no driver bound"
                                                                    : "driver " + *d.driver;
    out.Item("pci " + d.address, fmt::format("{} [10de:{:04x}] {}", d.name, d.device_id, driver));
    if (!d.subsystem_name.empty()) out.Detail("subsystem: " + d.subsystem_name);
    out.Detail(fmt::format("PCIe now {}, max {}", LinkText(d.link_now), LinkText(d.link_max)));
    std::string numa = !d.numa_node ? "?" : *d.numa_node < 0 ? "none" : std::to_string(*d.numa_node);
    out.Detail(fmt::format("NUMA node {}, CPUs {}", numa, d.local_cpulist.value_or("?")));
  }
  for (auto& e : pci.unreadable) out.Unknown("pci device", e);
}

json HostJson(const HostFacts& host) {
  json j;
  if (host.os)
    j["os"] = {{"id", host.os->id}, {"version_id", host.os->version_id},
               {"pretty_name", host.os->pretty_name}};
  else
    j["os"] = UnavailableJson(host.os.error());
  j["kernel"] = FactJson(host.kernel);
  j["virtualization"] = {{"wsl", host.virt.wsl},
                         {"vm", host.virt.vm},
                         {"vm_kind", host.virt.vm_kind},
                         {"container", host.virt.container},
                         {"container_kind", host.virt.container_kind},
                         {"evidence", host.virt.evidence}};
  if (host.cpu)
    j["cpu"] = {{"model", host.cpu->model}, {"sockets", host.cpu->sockets},
                {"cores", host.cpu->cores}, {"threads", host.cpu->threads}};
  else
    j["cpu"] = UnavailableJson(host.cpu.error());
  if (host.memory)
    j["memory"] = {{"total_bytes", host.memory->total_bytes},
                   {"available_bytes", host.memory->available_bytes}};
  else
    j["memory"] = UnavailableJson(host.memory.error());
  if (host.disks) {
    j["disks"] = json::array();
    for (auto& m : *host.disks) j["disks"].push_back(MountJson(m));
  } else {
    j["disks"] = UnavailableJson(host.disks.error());
  }
  j["dev_shm"] = host.dev_shm ? MountJson(*host.dev_shm) : UnavailableJson(host.dev_shm.error());
  return j;
}

json PciJson(const PciFacts& pci) {
  if (!pci.devices) return UnavailableJson(pci.devices.error());
  json list = json::array();
  for (auto& d : *pci.devices) {
    list.push_back({{"address", d.address},
                    {"vendor_id", fmt::format("0x{:04x}", d.vendor_id)},
                    {"device_id", fmt::format("0x{:04x}", d.device_id)},
                    {"subsystem_vendor_id", fmt::format("0x{:04x}", d.subsystem_vendor_id)},
                    {"subsystem_device_id", fmt::format("0x{:04x}", d.subsystem_device_id)},
                    {"class", fmt::format("0x{:06x}", d.class_code)},
                    {"kind", d.IsGpu() ? "gpu" : d.IsNvSwitch() ? "nvswitch" : "other"},
                    {"name", d.name},
                    {"subsystem_name", d.subsystem_name},
                    {"driver", FactJson(d.driver)},
                    {"link_now", LinkJson(d.link_now)},
                    {"link_max", LinkJson(d.link_max)},
                    {"numa_node", FactJson(d.numa_node)},
                    {"local_cpulist", FactJson(d.local_cpulist)},
                    {"sysfs_path", d.sysfs_path}});
  }
  json unreadable = json::array();
  for (auto& e : pci.unreadable) unreadable.push_back(UnavailableJson(e));
  return json{{"ids_source", pci.ids_source}, {"devices", list}, {"unreadable", unreadable}};
}

}  // namespace dlrig
