// Sanitizer options crashgate needs to parse a child's reports. A user's own
// settings always win; crashgate only fills in keys they did not set.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace crashgate {

struct SanitizerOptionDefaults {
  std::string_view variable;   // "ASAN_OPTIONS"
  std::string_view defaults;   // "k=v:k=v"; the symbolizer path is added when llvm-symbolizer is found
};

std::span<const SanitizerOptionDefaults> sanitizer_option_defaults();

// `current` with every default key it lacks appended (keys compared by name).
std::string merge_sanitizer_options(std::string_view current, const SanitizerOptionDefaults& tool);

}  // namespace crashgate
