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
  std::optional<double> memory_gb;    ///< nominal (catalogue or --memory); nullopt: unknown
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
  /// What describing the machine decided that the user should see ("--gpu 'A100' names 4
  /// catalogue GPUs ...; planned as A100 SXM4 40GB").
  std::vector<std::string> notes;
};

/// What `plan --gpu/--cc/--memory/--driver/--os` said; empty strings were not given.
struct MachineDescription {
  /// "RTX 4090", "A100", "GTX 1080 Ti": a name or alias in data/gpus.toml (GpuNameKey), or,
  /// with `cc`, a label for a GPU the catalogue lacks.
  std::string gpu;
  std::string driver;  ///< "535.183"
  std::string os;      ///< "ubuntu-22.04"
  std::string cc;      ///< "8.6": a GPU by compute capability (architectures.toml)
  std::string memory;  ///< "24" or "24GB": the described GPU's memory

  /// Whether anything describes a machine (else plan/check inspect this one or --root).
  bool Given() const {
    return !gpu.empty() || !cc.empty() || !memory.empty() || !driver.empty() || !os.empty();
  }
};

/// The machine the Inventory describes (doctor's probes over a Root).
MachineSpec MachineFromInventory(const Inventory& inv);
/// A described machine. An unknown GPU name is kMalformed with the nearest catalogue names
/// ("unknown GPU 'X'; did you mean: A, B, C"); a name several rows share resolves when they
/// agree on architecture and CC (with a note saying which it took), else it is kMalformed
/// listing them. A malformed version, CC or memory is kMalformed.
Result<MachineSpec> DescribeMachine(const MachineDescription& description);

}  // namespace dlrig
