// The builds a scenario may name: the configure presets of CMakePresets.json,
// the one list (tests/harness/builds_test.cc holds this copy to it).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace crashgate {

inline constexpr std::array<std::string_view, 6> kBuilds = {"release", "debug", "asan", "tsan", "fuzz", "coverage"};

inline bool is_build(std::string_view name) {
  for (auto b : kBuilds)
    if (b == name) return true;
  return false;
}

// "release, debug, asan, tsan, fuzz, coverage"
inline std::string build_names() {
  std::string out;
  for (auto b : kBuilds) out += (out.empty() ? "" : ", ") + std::string(b);
  return out;
}

}  // namespace crashgate
