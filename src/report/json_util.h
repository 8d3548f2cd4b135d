// JSON helpers shared by the report writers.
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace dlrig {

using json = nlohmann::ordered_json;

/// {"unavailable": "not_found", "reason": "..."}: how a fact that could not be read appears.
inline json UnavailableJson(const Error& error) {
  return json{{"unavailable", ErrorKindName(error.kind)}, {"reason", error.message}};
}

/// The value, or UnavailableJson.
template <class T>
json FactJson(const Result<T>& fact) {
  if (fact) return json(*fact);
  return UnavailableJson(fact.error());
}

}  // namespace dlrig
