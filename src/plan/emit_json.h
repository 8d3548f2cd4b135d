// The resolved stack as JSON (schema "dlrig.plan/1"), for programs.
#pragma once

#include "plan/plan.h"
#include "report/json_util.h"

namespace dlrig {

json PlanJson(const Plan& plan);

}  // namespace dlrig
