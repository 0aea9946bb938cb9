// Scenario -> cells: the cartesian product of targets, builds and params.
#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"
#include "crashgate/step_values.h"

namespace crashgate {
namespace {

using Combo = std::map<std::string, std::string>;

nlohmann::json substitute_all(const nlohmann::json& value, const std::map<std::string, std::string>& params) {
  if (value.is_string()) {
    // Placeholders were validated when the file was parsed.
    auto substituted = substitute_params(value.get<std::string>(), params);
    return substituted ? *substituted : value.get<std::string>();
  }
  if (value.is_array() || value.is_object()) {
    nlohmann::json out = value;
    for (auto& item : out) item = substitute_all(item, params);
    return out;
  }
  return value;
}

// The params a value names ({name}; "{{" is a literal brace).
void referenced_params(const nlohmann::json& value, std::set<std::string>& out) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '{') {
        ++i;
        continue;
      }
      if (text[i] != '{') continue;
      auto close = text.find('}', i);
      if (close == std::string::npos) return;
      out.insert(text.substr(i + 1, close - i - 1));
      i = close;
    }
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) referenced_params(item, out);
  }
}

const KeySpec* key_spec(const OpSpec* op, std::string_view key) {
  if (op)
    if (const KeySpec* spec = op->key(key)) return spec;
  for (const auto& common : common_step_keys())
    if (common.name == key) return &common;
  return nullptr;
}

// One step's value after substitution, in its typed form; nothing when it is not of its key's type.
Checked<nlohmann::json> typed_arg(const OpSpec* op, const std::string& key, const nlohmann::json& value) {
  const KeySpec* spec = key_spec(op, key);
  if (!spec) return value;  // the parser refused unknown keys; a hand-made Step keeps what it has
  auto typed = typed_value(*spec, value);
  if (!typed) return typed;
  if (key == "expect")
    if (auto valid = check_step_expect(typed->get<std::string>()); !valid) return failure(valid.error());
  return typed;
}

Step typed_step(const Step& step, const Combo& combo) {
  Step out = step;
  const OpSpec* op = find_op(step.op);
  for (auto& [key, value] : out.args.items()) {
    nlohmann::json substituted = substitute_all(value, combo);
    auto typed = typed_arg(op, key, substituted);
    value = typed ? std::move(*typed) : std::move(substituted);
  }
  return out;
}

// Every combination of the params' values for one target: a param whose
// values are the target's own (target_params) takes those, with their parts
// ({spot.file}, ...) beside it.
std::vector<Combo> param_combinations(const Scenario& s, const std::string& target) {
  std::vector<Combo> combos{{}};
  for (const auto& [name, declared] : s.params) {
    const std::vector<std::string>* values = &declared;
    if (auto own = s.target_params.find(name); own != s.target_params.end())
      if (auto for_target = own->second.find(target); for_target != own->second.end()) values = &for_target->second;
    std::vector<Combo> next;
    for (const auto& combo : combos)
      for (const auto& value : *values) {
        auto extended = combo;
        extended[name] = value;
        if (auto parts = s.value_parts.find(target + "\n" + name + "=" + value); parts != s.value_parts.end())
          for (const auto& [part, text] : parts->second) extended[part] = text;
        next.push_back(std::move(extended));
      }
    combos = std::move(next);
  }
  return combos;
}

std::string cell_id(const Scenario& s, const std::string& target, const std::string& build, const Combo& combo) {
  std::string id = fmt::format("{}/{}/{}", s.name, target, build);
  if (!s.params.empty()) {
    std::string list;
    for (const auto& [name, values] : s.params) list += (list.empty() ? "" : ",") + name + "=" + combo.at(name);
    id += "[" + list + "]";
  }
  return id;
}

}  // namespace

void check_target_values(const Scenario& s, const std::string& target, const std::string& build,
                         const std::set<std::string>& unresolved, std::set<std::string>& seen,
                         std::vector<ScenarioError>& errors);

Checked<std::string> substitute_params(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') return failure(fmt::format("unmatched '}}' in \"{}\" (write '}}}}' for a literal brace)", text));
    if (c != '{') {
      out += c;
      continue;
    }
    auto close = text.find('}', i);
    if (close == std::string_view::npos) return failure(fmt::format("unclosed '{{' in \"{}\"", text));
    std::string name(text.substr(i + 1, close - i - 1));
    auto found = values.find(name);
    if (found == values.end()) return failure(fmt::format("'{{{}}}' names no param (declare it under [params])", name));
    out += found->second;
    i = close;
  }
  return out;
}

std::vector<Cell> expand_cells(const Scenario& s, std::uint64_t seed) {
  std::vector<Cell> cells;
  for (const auto& target : s.targets)
    for (const auto& build : s.builds)
      for (const auto& combo : param_combinations(s, target)) {
        Cell cell;
        cell.scenario = s.name;
        cell.target = target;
        cell.build = build;
        for (const auto& [name, values] : s.params) cell.params[name] = combo.at(name);
        cell.id = cell_id(s, target, build, combo);
        cell.seed = XXH3_64bits_withSeed(cell.id.data(), cell.id.size(), seed);
        cell.limits = s.limits;
        cell.expect = s.expect;
        cell.regression = s.regression;
        cell.check_invariants = s.check_invariants;
        cell.crash_states = s.crash_states;
        cell.matrix_switches = s.matrix_switches;
        for (const auto& step : s.steps) cell.steps.push_back(typed_step(step, combo));
        cells.push_back(std::move(cell));
      }
  return cells;
}

std::vector<ScenarioError> check_cell_values(const Scenario& s) {
  std::vector<ScenarioError> errors;
  std::set<std::string> seen;
  std::string build = s.builds.empty() ? "release" : s.builds.front();
  std::vector<std::string> targets = s.targets;
  if (targets.empty()) targets = {"*"};  // ["*"] expanded to no built target: check the form alone
  for (const auto& target : targets) {
    // Params still to be filled from this target's tables (and their parts): nothing to check yet.
    std::set<std::string> unresolved;
    for (const auto& source : s.param_sources) {
      auto own = s.target_params.find(source.param);
      bool filled = own != s.target_params.end() && own->second.count(target);
      for (const auto& [name, values] : s.params)
        if (name == source.param && !filled && values.size() == 1 && values.front() == source.placeholder()) {
          unresolved.insert(name);
          for (const auto& part : source.parts()) unresolved.insert(name + "." + part);
        }
    }
    check_target_values(s, target, build, unresolved, seen, errors);
  }
  return errors;
}

void check_target_values(const Scenario& s, const std::string& target, const std::string& build,
                         const std::set<std::string>& unresolved, std::set<std::string>& seen,
                         std::vector<ScenarioError>& errors) {
  for (const auto& combo : param_combinations(s, target))
    for (const auto& step : s.steps) {
      const OpSpec* op = find_op(step.op);
      for (const auto& [key, value] : step.args.items()) {
        std::set<std::string> names;
        referenced_params(value, names);
        // Params filled later, or not declared at all (the parser said so): nothing to check yet.
        if (std::any_of(names.begin(), names.end(), [&](const std::string& n) { return unresolved.count(n) > 0 || !combo.count(n); }))
          continue;
        auto typed = typed_arg(op, key, substitute_all(value, combo));
        if (typed) continue;
        auto key_at = step.key_at.find(key);
        SourcePosition at = key_at != step.key_at.end() ? key_at->second : step.at;
        std::string message = fmt::format("step {} ({}): {}", step.index, step.op, typed.error());
        if (!names.empty()) {
          std::string from;
          for (const auto& n : names) from += fmt::format("{}{} = \"{}\"", from.empty() ? "" : ", ", n, combo.at(n));
          message += fmt::format(" (from param {}, in cell {})", from, cell_id(s, target, build, combo));
          // One param: point at the value written under [params].
          if (names.size() == 1) {
            const auto& name = *names.begin();
            auto positions = s.param_value_at.find(name);
            for (const auto& [param, values] : s.params)
              if (param == name && positions != s.param_value_at.end())
                for (std::size_t i = 0; i < values.size() && i < positions->second.size(); ++i)
                  if (values[i] == combo.at(name)) at = positions->second[i];
          }
        }
        if (seen.insert(fmt::format("{}:{}:{}", at.line, at.column, message.substr(0, message.find(" (from param")))).second)
          errors.push_back({s.path, at, std::move(message)});
      }
    }
}

}  // namespace crashgate
