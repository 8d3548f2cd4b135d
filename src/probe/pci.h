// hardware layer: NVIDIA PCI functions read from sysfs, without needing the driver.
// Names come from the pci.ids data file (never from GPL libpci).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct PcieLink {
  Result<double> speed_gts = Fail(ErrorKind::kNotFound, "not probed");  ///< GT/s per lane
  Result<int> width = Fail(ErrorKind::kNotFound, "not probed");         ///< lanes
};

struct PciDevice {
  std::string address;  ///< "0000:00:06.0"
  unsigned vendor_id = 0, device_id = 0, subsystem_vendor_id = 0, subsystem_device_id = 0;
  unsigned class_code = 0;  ///< 24-bit, 0x030200 = 3D controller
  /// pci.ids name, else the GPU catalogue's ("GH100 [H200 SXM 141GB]"), else "device 0x2335"
  std::string name;
  std::string subsystem_name;
  Result<std::string> driver = Fail(ErrorKind::kNotFound, "not probed");  ///< "nvidia", "" when unbound
  PcieLink link_now, link_max;
  Result<int> numa_node = Fail(ErrorKind::kNotFound, "not probed");  ///< -1: no NUMA information
  Result<std::string> local_cpulist = Fail(ErrorKind::kNotFound, "not probed");
  std::string sysfs_path;  ///< /sys/devices/... (for topology)

  bool IsGpu() const { return (class_code >> 16) == 0x03; }
  bool IsNvSwitch() const { return (class_code >> 8) == 0x0680; }
};

struct PciFacts {
  Result<std::vector<PciDevice>> devices = Fail(ErrorKind::kNotFound, "not probed");  ///< vendor 0x10de only
  std::string ids_source;  ///< the pci.ids file names came from ("" when none was found)
  /// Devices on the bus whose vendor could not be read (each may be an NVIDIA one). When no
  /// NVIDIA device was read and this is not empty, `devices` is an error: unknown, not none.
  std::vector<Error> unreadable;
};

PciFacts ProbePci(const ProbeContext& ctx);

/// PCIe generation for a per-lane rate: 2.5→1, 5→2, 8→3, 16→4, 32→5, 64→6.
std::optional<int> PcieGeneration(double speed_gts);
/// Parses "32.0 GT/s PCIe" / "8 GT/s" / "Unknown".
std::optional<double> ParseLinkSpeed(std::string_view text);

/// Names for NVIDIA devices from a pci.ids text: device id → name, and
/// (device, subvendor, subdevice) → subsystem name.
struct PciIds {
  std::vector<std::pair<unsigned, std::string>> devices;
  std::vector<std::pair<std::array<unsigned, 3>, std::string>> subsystems;
  std::optional<std::string> DeviceName(unsigned device_id) const;
  std::optional<std::string> SubsystemName(unsigned device_id, unsigned sv, unsigned sd) const;
};
PciIds ParsePciIdsForVendor(std::string_view text, unsigned vendor_id);
/// "PCI:0000:01:00", "00000000:01:00.0", "0000:01:00" → "0000:01:00.0" (lower case, 4-digit
/// domain, function .0 when absent); nullopt when it is not a PCI address.
std::optional<std::string> NormalizePciAddress(std::string_view text);

}  // namespace dlrig
