// Scenario -> cells: the cartesian product of targets, builds and params.
#include <xxhash.h>

#include <fmt/format.h>

#include "crashgate/scenario.h"

namespace crashgate {
namespace {

nlohmann::json substitute_all(const nlohmann::json& value, const std::map<std::string, std::string>& params) {
  if (value.is_string()) {
    std::string error;
    // Placeholders were validated when the file was parsed.
    return substitute_params(value.get<std::string>(), params, error).value_or(value.get<std::string>());
  }
  if (value.is_array() || value.is_object()) {
    nlohmann::json out = value;
    for (auto& item : out) item = substitute_all(item, params);
    return out;
  }
  return value;
}

}  // namespace

std::optional<std::string> substitute_params(std::string_view text, const std::map<std::string, std::string>& values,
                                             std::string& error) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') {
      error = fmt::format("unmatched '}}' in \"{}\" (write '}}}}' for a literal brace)", text);
      return std::nullopt;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    auto close = text.find('}', i);
    if (close == std::string_view::npos) {
      error = fmt::format("unclosed '{{' in \"{}\"", text);
      return std::nullopt;
    }
    std::string name(text.substr(i + 1, close - i - 1));
    auto found = values.find(name);
    if (found == values.end()) {
      error = fmt::format("'{{{}}}' names no param (declare it under [params])", name);
      return std::nullopt;
    }
    out += found->second;
    i = close;
  }
  return out;
}

std::vector<Cell> expand_cells(const Scenario& s, std::uint64_t seed) {
  std::vector<std::map<std::string, std::string>> combos{{}};
  for (const auto& [name, values] : s.params) {
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& combo : combos)
      for (const auto& value : values) {
        auto extended = combo;
        extended[name] = value;
        next.push_back(std::move(extended));
      }
    combos = std::move(next);
  }
  std::vector<Cell> cells;
  for (const auto& target : s.targets)
    for (const auto& build : s.builds)
      for (const auto& combo : combos) {
        Cell cell;
        cell.scenario = s.name;
        cell.target = target;
        cell.build = build;
        cell.params = combo;
        cell.id = fmt::format("{}/{}/{}", s.name, target, build);
        if (!s.params.empty()) {
          std::string list;
          for (const auto& [name, values] : s.params) list += (list.empty() ? "" : ",") + name + "=" + combo.at(name);
          cell.id += "[" + list + "]";
        }
        cell.seed = XXH3_64bits_withSeed(cell.id.data(), cell.id.size(), seed);
        cell.limits = s.limits;
        cell.expect = s.expect;
        cell.regression = s.regression;
        cell.matrix_switches = s.matrix_switches;
        for (const auto& step : s.steps) {
          Step substituted = step;
          substituted.args = substitute_all(step.args, combo);
          cell.steps.push_back(std::move(substituted));
        }
        cells.push_back(std::move(cell));
      }
  return cells;
}

}  // namespace crashgate
