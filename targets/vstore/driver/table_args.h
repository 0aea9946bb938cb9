// Strict reads of the entries of a step's table (second-process `args`): the
// table's keys are the action's own, so the op table cannot type them, but a
// malformed entry is still an error naming it, never a default.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/step_values.h"

namespace crashgate::vstore_driver {

inline Checked<nlohmann::json> table_entry(const nlohmann::json& table, const std::string& key, ValueType type,
                                           const nlohmann::json& fallback) {
  auto it = table.find(key);
  if (it == table.end()) return fallback;
  std::string name = "args." + key;
  return typed_value(KeySpec{.name = name, .type = type}, *it);
}

inline Checked<std::uint64_t> table_u64(const nlohmann::json& table, const std::string& key, std::uint64_t fallback) {
  auto v = table_entry(table, key, ValueType::u64, fallback);
  if (!v) return failure(v.error());
  return v->get<std::uint64_t>();
}

inline Checked<std::string> table_string(const nlohmann::json& table, const std::string& key, const std::string& fallback) {
  auto v = table_entry(table, key, ValueType::string, fallback);
  if (!v) return failure(v.error());
  return v->get<std::string>();
}

// A duration with its unit ("500ms"), in milliseconds.
inline Checked<std::uint64_t> table_duration_ms(const nlohmann::json& table, const std::string& key, std::uint64_t fallback_ms) {
  auto v = table_entry(table, key, ValueType::duration, fallback_ms);
  if (!v) return failure(v.error());
  return v->get<std::uint64_t>();
}

}  // namespace crashgate::vstore_driver
