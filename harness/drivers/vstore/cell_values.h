// Typed reads of a step's keys that never throw: a malformed value falls back
// to the default, so a bad cell can never look like an engine crash.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace crashgate::vstore_driver {

// A whole number, written as a TOML integer or (after {param} substitution,
// which yields strings) as a string of digits.
inline uint64_t get_u64(const nlohmann::json& step, const char* key, uint64_t fallback) {
  if (!step.is_object()) return fallback;
  auto it = step.find(key);
  if (it == step.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>() < 0 ? fallback : it->get<uint64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  return fallback;
}

inline std::string get_string(const nlohmann::json& step, const char* key, const std::string& fallback = "") {
  if (!step.is_object()) return fallback;
  auto it = step.find(key);
  if (it == step.end()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

inline bool get_bool(const nlohmann::json& step, const char* key, bool fallback) {
  if (!step.is_object()) return fallback;
  auto it = step.find(key);
  if (it == step.end()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return *it == "true";
  return fallback;
}

}  // namespace crashgate::vstore_driver
