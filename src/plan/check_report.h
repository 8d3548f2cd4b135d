// How `dlrig check` shows its findings: text grouped by file, or JSON (schema dlrig.check/1).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plan/check.h"

namespace dlrig {

/// One file given to `check`: what was found, or why it could not be read.
struct CheckedFile {
  std::string path;
  std::string kind;   ///< ProjectFileKindName, "" when it could not be told
  std::string error;  ///< why it could not be read or parsed; "" when it was
  std::vector<CheckFinding> findings;
};

std::string CheckText(const MachineSpec& machine, const std::vector<CheckedFile>& files);
nlohmann::ordered_json CheckJson(const MachineSpec& machine, const std::vector<CheckedFile>& files);
/// 64 when a file could not be read, else 2 with an error, 1 with a warning, 0.
int CheckExitCode(const std::vector<CheckedFile>& files);
/// "RTX 3090 (8.6), driver 535.183 (CUDA 12.2), no nvcc": the machine in one line.
std::string MachineLine(const MachineSpec& machine);

}  // namespace dlrig
