// The result JSON: the Outcome as consumers see it. Documented field by field
// in reports/result-schema.md; `schema` names the version.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"

namespace crashgate {

inline constexpr const char* kResultSchema = "crashgate.result/1";

nlohmann::json to_json(const Outcome& outcome);
// Reads a result written by to_json; on failure returns nothing and says which field in `error`.
Checked<Outcome> outcome_from_json(const nlohmann::json& json);

}  // namespace crashgate
