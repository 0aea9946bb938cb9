// The check of every count option (--jobs, --repeat): a whole number of 1 or
// more. CLI11's PositiveNumber accepts 0.5 and words 0 as "not in range 0 to
// 1.8e308"; this one says "--jobs: '0' is not a whole number of 1 or more".
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace crashgate {

inline CLI::Validator positive_count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || end != text.data() + text.size() || n == 0)
          return "'" + text + "' is not a whole number of 1 or more";
        return "";
      },
      "COUNT", "positive count");
}

}  // namespace crashgate
