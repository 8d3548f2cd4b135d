// The machine a plan is made for, or a project's files are checked against: this one (from
// the Inventory doctor builds), a --root tree, or one described on the command line
// (--gpu "RTX 4090" --driver 535.183 --os ubuntu-22.04). Only what the resolver needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/version.h"
#include "probe/inventory.h"

namespace dlrig {

struct PlanGpu {
  std::string name;                    ///< "NVIDIA GeForce RTX 4090" (catalogue or NVML name)
  std::optional<uint16_t> device_id;   ///< PCI device id, when known
  std::optional<Version> compute_capability;  ///< "8.9"; nullopt when the catalogue lacks it
  std::string architecture;           ///< "Ada Lovelace", "" when unknown
};

struct MachineSpec {
  std::string origin;            ///< "this machine", "--root DIR" or "described"
  std::vector<PlanGpu> gpus;     ///< NVIDIA GPUs; empty when none was found or described
  std::optional<Version> driver;  ///< the installed (or described) driver; nullopt: none
  /// The CUDA the driver supports (cuDriverGetVersion / NVML), when it could be asked; else
  /// derived from `driver` through data/cuda-drivers.toml.
  std::optional<Version> driver_cuda;
  std::string os_id;           ///< "ubuntu", "debian", "" when unknown
  std::string os_version;      ///< "22.04"
  std::string machine = "x86_64";  ///< uname -m
  std::optional<Version> nvcc;     ///< the toolkit extension builds would use, when present
  std::optional<Version> gcc;      ///< the host compiler on PATH, when known
  std::optional<Version> python;   ///< python3 on PATH, when known
};

/// What `plan --gpu/--driver/--os` said; empty strings were not given.
struct MachineDescription {
  std::string gpu;     ///< "RTX 4090", "A100", "GTX 1080 Ti": matched against data/gpus.toml
  std::string driver;  ///< "535.183"
  std::string os;      ///< "ubuntu-22.04"
};

/// The machine the Inventory describes (doctor's probes over a Root).
MachineSpec MachineFromInventory(const Inventory& inv);
/// A described machine; an unknown GPU name or a malformed version is kMalformed with the
/// nearest catalogue names in the message.
Result<MachineSpec> DescribeMachine(const MachineDescription& description);

}  // namespace dlrig
