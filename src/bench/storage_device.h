// The physical limit of the storage behind a directory: the block device (through partitions,
// device-mapper and md to the whole disks), its model, and the PCIe link that carries its data,
// all read from sysfs through a Root so fixture trees stand in for machines.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/root.h"
#include "knowledge/tensor_rates.h"

namespace dlrig::bench {

/// Bandwidth of a PCIe link per direction after line encoding.
struct LinkBandwidth {
  double gb_per_s = 0;    ///< 10^9 bytes/s, one direction
  bool confirmed = true;  ///< false where the table marks the encoding unconfirmed (PCIe 6)
  std::string formula;    ///< "4 lanes x 16 GT/s x 128/130 / 8 = 7.88 GB/s"
  std::string source;     ///< the data row and its sources
};

/// lanes x GT/s x payload/line bits / 8, the rate and encoding of the generation from
/// data/tensor-rates.toml's [[pcie]] rows (8b/10b for 2.5 and 5 GT/s, 128b/130b for 8-32 GT/s,
/// FLIT 242/256 for 64 GT/s, unconfirmed). nullopt for a rate or width the table cannot price.
std::optional<LinkBandwidth> PcieLinkBandwidth(const TensorRates& rates, double gts, int lanes);

struct LinkState {
  std::optional<double> gts;  ///< per lane, nullopt when unreadable ("Unknown")
  std::optional<int> lanes;
};

/// One PCI function on the way from the disk to the CPU that has a PCIe link.
struct PcieHop {
  std::string address;  ///< "0000:01:00.0"
  LinkState now, max;
};

/// A whole disk (not a partition, not a dm/md device).
struct StorageDisk {
  std::string name;        ///< "nvme0n1", "sda", "vda"
  std::string sysfs_path;  ///< /sys/devices/.../block/nvme0n1
  std::string transport;   ///< "nvme", "sata", "virtio", "scsi", "usb", "virtual", "unknown"
  std::optional<std::string> model;  ///< /sys/block/X/device/model, trimmed
  std::optional<bool> rotational;    ///< queue/rotational
  std::vector<PcieHop> pcie_path;    ///< endpoint first, then the ports above it
  /// The narrowest link on the path, per direction; nullopt with `limit_reason` when none.
  std::optional<LinkBandwidth> limit;
  std::string limit_reason;  ///< why there is no limit, or which hop sets it
};

struct StorageDevice {
  std::string block_device;        ///< "259:2", what st_dev of the directory names
  std::string name;                ///< "nvme0n1p2", "dm-0": the device the filesystem sits on
  std::vector<StorageDisk> disks;  ///< the whole disks behind it (several for dm/md over many)
  /// Sum of the disks' limits (an upper bound: no layout moves more than all links carry);
  /// nullopt when any disk has none.
  std::optional<double> limit_gb_per_s;
  bool limit_confirmed = true;
  std::string limit_reason;  ///< how the limit was found, or why there is none
};

/// Walks sysfs under `root` from the block device major:minor to its disks and links, pricing
/// each link with `rates` (TensorRates::BuiltIn() in the overload without it).
/// A device that is not in /sys/dev/block (tmpfs, overlay, network filesystems) yields no disks
/// and no limit, with the reason; only an unreadable sysfs is an error.
Result<StorageDevice> FindStorageDevice(const Root& root, const TensorRates& rates, unsigned major,
                                        unsigned minor);
Result<StorageDevice> FindStorageDevice(const Root& root, unsigned major, unsigned minor);

/// The same for the directory `dir` on this machine (stat of the directory, then /sys). For
/// filesystems with anonymous device numbers (btrfs), /proc/self/mountinfo names the source.
Result<StorageDevice> ProbeStorageDevice(const std::string& dir);

}  // namespace dlrig::bench
