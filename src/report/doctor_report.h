// The doctor report: every layer, text for people and JSON (schema dlrig.doctor/1).
#pragma once

#include <string>

#include "probe/inventory.h"
#include "report/json_util.h"
#include "rules/rules.h"

namespace dlrig {

inline constexpr const char* kDoctorSchema = "dlrig.doctor/1";

std::string DoctorText(const Inventory& inv, const Findings& findings, bool colour);
json DoctorJson(const Inventory& inv, const Findings& findings);

}  // namespace dlrig
