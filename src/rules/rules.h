// Rules: pure functions from the Inventory to findings (no I/O). One file per layer; each
// rule adds findings by catalogue id with the evidence that proves them.
#pragma once

#include <vector>

#include "core/result.h"
#include "probe/inventory.h"
#include "rules/catalog.h"
#include "rules/finding.h"

namespace dlrig {

using Findings = std::vector<Finding>;

void HardwareRules(const Inventory& inv, Findings& out);
void KernelDriverRules(const Inventory& inv, Findings& out);
void UserDriverRules(const Inventory& inv, Findings& out);
void ToolkitRules(const Inventory& inv, Findings& out);
void GpuCompatRules(const Inventory& inv, Findings& out);
void PythonRules(const Inventory& inv, Findings& out);
void PythonPackageRules(const Inventory& inv, Findings& out);
void ContainerRules(const Inventory& inv, Findings& out);
void ShellRules(const Inventory& inv, Findings& out);
/// Xids in the kernel log and NVML's per-GPU health (ECC, row remapping, MIG, compute mode).
void GpuHealthRules(const Inventory& inv, Findings& out);

/// Runs every rule, fills each finding's words from `catalog`, and marks findings that a
/// lower one explains (the catalogue's follows_from) as its consequences. Root causes first,
/// lowest layer first. kMalformed when a rule names an id the catalogue lacks (a defect).
Result<Findings> Diagnose(const Inventory& inv, const Catalog& catalog);

/// Diagnose with the built-in catalogue (data/findings.toml).
Result<Findings> DiagnoseBuiltIn(const Inventory& inv);

/// 2 when a root cause is an error, 1 when one is a warning, else 0 (DESIGN.md exit codes).
int ExitCodeFor(const Findings& findings);

}  // namespace dlrig
