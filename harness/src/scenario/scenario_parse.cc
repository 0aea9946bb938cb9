// Scenario TOML -> Scenario, with every problem reported at file:line:column.
// Errors are collected rather than stopping at the first, so one edit fixes a file.
#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "crashgate/builds.h"
#include "crashgate/crash_states.h"
#include "crashgate/outcome.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"

namespace crashgate {
namespace {

constexpr std::string_view kTopLevelKeys =
    "name summary origin regression matrix_switches check_invariants crash_states targets builds params limits step expect";
constexpr std::string_view kExpectKeys = "outcome code signal check step message";

SourcePosition position(const toml::node& node) {
  return {static_cast<int>(node.source().begin.line), static_cast<int>(node.source().begin.column)};
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

bool is_common_step_key(std::string_view key) {
  for (const auto& common : common_step_keys())
    if (common.name == key) return true;
  return false;
}

bool listed(std::string_view words, std::string_view key) {
  for (auto w : op_keys(words))
    if (w == key) return true;
  return false;
}

nlohmann::json to_json(const toml::node& node) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto i = node.value_exact<int64_t>()) return *i;
  if (auto d = node.value_exact<double>()) return *d;
  if (auto b = node.value_exact<bool>()) return *b;
  if (const auto* array = node.as_array()) {
    auto out = nlohmann::json::array();
    for (const auto& item : *array) out.push_back(to_json(item));
    return out;
  }
  if (const auto* table = node.as_table()) {
    auto out = nlohmann::json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = to_json(value);
    return out;
  }
  // Dates and times: kept as text, the driver decides what they mean.
  std::ostringstream text;
  if (auto date = node.value_exact<toml::date>()) text << *date;
  else if (auto time = node.value_exact<toml::time>()) text << *time;
  else if (auto date_time = node.value_exact<toml::date_time>()) text << *date_time;
  return text.str();
}

class Parser {
 public:
  Parser(std::string path) : path_(std::move(path)) {}

  ScenarioParse run(std::string_view text) {
    ScenarioParse result;
    toml::table root;
    try {
      root = toml::parse(text, path_);
    } catch (const toml::parse_error& e) {
      fail({static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
           std::string(e.description()));
      result.errors = std::move(errors_);
      return result;
    }
    Scenario s;
    s.path = path_;
    for (const auto& [key, node] : root)
      if (!listed(kTopLevelKeys, key.str()))
        fail(position(node), fmt::format("unknown key '{}' (expected one of: {})", key.str(), join(op_keys(kTopLevelKeys))));
    s.name = required_string(root, "name");
    s.summary = optional_string(root, "summary");
    s.origin = optional_string(root, "origin");
    s.regression = optional_string(root, "regression");
    s.matrix_switches = string_list(root, "matrix_switches", false);
    if (const auto* node = root.get("check_invariants")) {
      if (auto b = node->value_exact<bool>()) s.check_invariants = *b;
      else fail(position(*node), "'check_invariants' must be true or false");
    }
    s.targets = string_list(root, "targets", true);
    // ["*"]: every target whose driver can run the scenario's cells (target_support.h).
    if (std::find(s.targets.begin(), s.targets.end(), "*") != s.targets.end()) {
      if (s.targets.size() > 1) fail(position_of(root, "targets"), "targets: \"*\" means every target, and stands alone");
      s.all_targets = true;
    }
    s.builds = string_list(root, "builds", false);
    if (s.builds.empty()) s.builds = {"release"};
    for (const auto& build : s.builds)
      if (!is_build(build))
        fail(position_of(root, "builds"), fmt::format("unknown build '{}' (expected one of: {})", build, build_names()));
    read_params(root, s);
    read_limits(root, s);
    read_crash_states(root, s);
    read_steps(root, s);
    read_expect(root, s);
    if (s.crash_states && s.crash_states->steps && static_cast<std::size_t>(s.crash_states->steps->second) >= s.steps.size())
      fail(position_of(root, "crash_states"), fmt::format("crash_states.steps: the scenario has steps 0 to {}, not {}",
                                                          s.steps.empty() ? 0 : s.steps.size() - 1, s.crash_states->steps->second));
    // Every value against its key's type, for every param value: nothing runs with a value it would misread.
    for (auto& error : check_cell_values(s)) errors_.push_back(std::move(error));
    if (errors_.empty()) result.scenario = std::move(s);
    result.errors = std::move(errors_);
    return result;
  }

 private:
  void fail(SourcePosition at, std::string message) { errors_.push_back({path_, at, std::move(message)}); }

  SourcePosition position_of(const toml::table& table, std::string_view key) {
    if (const auto* node = table.get(key)) return position(*node);
    return {static_cast<int>(table.source().begin.line), static_cast<int>(table.source().begin.column)};
  }

  std::string optional_string(const toml::table& table, std::string_view key) {
    const auto* node = table.get(key);
    if (!node) return "";
    if (auto value = node->value_exact<std::string>()) return *value;
    fail(position(*node), fmt::format("'{}' must be a string", key));
    return "";
  }

  std::string required_string(const toml::table& table, std::string_view key) {
    if (!table.get(key)) {
      fail(position_of(table, key), fmt::format("missing '{}'", key));
      return "";
    }
    return optional_string(table, key);
  }

  std::vector<std::string> string_list(const toml::table& table, std::string_view key, bool required) {
    std::vector<std::string> out;
    const auto* node = table.get(key);
    if (!node) {
      if (required) fail(position_of(table, key), fmt::format("missing '{}' (a list of strings)", key));
      return out;
    }
    const auto* array = node->as_array();
    if (!array || array->empty()) {
      fail(position(*node), fmt::format("'{}' must be a non-empty list of strings", key));
      return out;
    }
    for (const auto& item : *array) {
      if (auto text = item.value_exact<std::string>()) out.push_back(*text);
      else fail(position(item), fmt::format("'{}' must hold only strings", key));
    }
    return out;
  }

  void read_params(const toml::table& root, Scenario& s) {
    const auto* node = root.get("params");
    if (!node) return;
    const auto* table = node->as_table();
    if (!table) {
      fail(position(*node), "'params' must be a table of lists ([params])");
      return;
    }
    for (const auto& [key, value] : *table) {
      std::vector<std::string> values;
      if (const auto* source = value.as_table()) {
        read_param_source(std::string(key.str()), *source, position(value), s);
        continue;
      }
      const auto* array = value.as_array();
      if (!array || array->empty()) {
        fail(position(value), fmt::format("param '{}' must be a non-empty list of values", key.str()));
        continue;
      }
      auto& positions = s.param_value_at[std::string(key.str())];
      for (const auto& item : *array) {
        if (auto text = item.value_exact<std::string>()) values.push_back(*text);
        else if (auto number = item.value_exact<int64_t>()) values.push_back(std::to_string(*number));
        else fail(position(item), fmt::format("param '{}': values must be strings or integers", key.str()));
        positions.push_back(position(item));
      }
      s.params.emplace_back(std::string(key.str()), std::move(values));
    }
  }

  // `name = { from = "failpoints", where = ["write-path"], name = "*.pwrite" }`:
  // values from the target's own table, filled in before cells are expanded
  // (param_sources.h). Until then the param holds one placeholder value.
  void read_param_source(const std::string& param, const toml::table& table, SourcePosition at, Scenario& s) {
    ParamSource source;
    source.param = param;
    source.at = at;
    for (const auto& [key, node] : table) {
      std::string k(key.str());
      if (k == "from") {
        auto from = node.value_exact<std::string>();
        if (!from || (*from != "failpoints" && *from != "layout"))
          fail(position(node), fmt::format("param '{}': 'from' must be \"failpoints\" (the target's failpoint table) or \"layout\" "
                                           "(its files' header fields)", param));
        else source.from = *from;
      } else if (k == "file" || k == "field") {
        auto glob = node.value_exact<std::string>();
        if (!glob || glob->empty()) fail(position(node), fmt::format("param '{}': '{}' must be a glob string such as \"*\"", param, k));
        else (k == "file" ? source.file_glob : source.field_glob) = *glob;
      } else if (k == "where") {
        std::vector<std::string> words;
        if (auto one = node.value_exact<std::string>()) words.push_back(*one);
        else if (const auto* list = node.as_array())
          for (const auto& item : *list)
            if (auto w = item.value_exact<std::string>()) words.push_back(*w);
        for (const auto& w : words)
          if (!is_param_source_condition(w))
            fail(position(node), fmt::format("param '{}': unknown condition '{}' in 'where' (expected: {})", param, w,
                                             param_source_conditions()));
        source.where = words;
      } else if (k == "name") {
        auto glob = node.value_exact<std::string>();
        if (!glob) fail(position(node), fmt::format("param '{}': 'name' must be a glob string such as \"*.pwrite\"", param));
        else source.name_glob = *glob;
      } else {
        fail(position(node), fmt::format("param '{}': unknown key '{}' (expected from, where, name, file, field)", param, k));
      }
    }
    if (source.from.empty() && !table.contains("from"))
      fail(at, fmt::format("param '{}': a table of values needs from = \"failpoints\" or from = \"layout\"", param));
    bool layout = source.from == "layout";
    if (layout && (table.contains("where") || table.contains("name")))
      fail(at, fmt::format("param '{}': from = \"layout\" takes file and field, not where or name", param));
    if (!layout && !source.from.empty() && (table.contains("file") || table.contains("field")))
      fail(at, fmt::format("param '{}': file and field are for from = \"layout\"", param));
    s.params.emplace_back(param, std::vector<std::string>{source.placeholder()});
    s.param_sources.push_back(std::move(source));
  }

  // [crash_states]: `crashgate crash-check` records the cell and checks recovery from the states
  // `model` allows at `sample` crash points (0: every call) of the steps `steps` names (default all).
  void read_crash_states(const toml::table& root, Scenario& s) {
    const auto* node = root.get("crash_states");
    if (!node) return;
    const auto* table = node->as_table();
    if (!table) {
      fail(position(*node), "'crash_states' must be a table ([crash_states])");
      return;
    }
    CrashStateSpec spec;
    for (const auto& [key, value] : *table) {
      if (key.str() == "model") {
        auto text = value.value_exact<std::string>();
        if (!text || !parse_persistence_model(*text))
          fail(position(value), fmt::format("crash_states.model: {} is not a persistence model (posix, ext4-ordered)",
                                            text ? "'" + *text + "'" : std::string("a non-string")));
        else spec.model = *text;
      } else if (key.str() == "sample") {
        auto n = value.value_exact<std::int64_t>();
        if (!n || *n < 0) fail(position(value), "crash_states.sample must be a count of crash points (0: every call)");
        else spec.sample = static_cast<std::uint64_t>(*n);
      } else if (key.str() == "steps") {
        // [first, last]: only the calls those steps make are crash points (a phase of the cell).
        const auto* list = value.as_array();
        std::vector<std::int64_t> bounds;
        if (list)
          for (const auto& v : *list)
            if (auto n = v.value_exact<std::int64_t>()) bounds.push_back(*n);
        if (!list || list->size() != 2 || bounds.size() != 2 || bounds[0] < 0 || bounds[1] < bounds[0])
          fail(position(value), "crash_states.steps must be [first, last]: the step indexes (from 0) of the phase whose calls are crash points");
        else spec.steps = std::make_pair(static_cast<int>(bounds[0]), static_cast<int>(bounds[1]));
      } else if (key.str() == "matrix_switches") {
        spec.matrix_switches = string_list(*table, "matrix_switches", false);
      } else {
        fail(position(value), fmt::format("crash_states: unknown key '{}' (expected model, sample, steps, matrix_switches)", key.str()));
      }
    }
    s.crash_states = spec;
  }

  void read_limits(const toml::table& root, Scenario& s) {
    const auto* node = root.get("limits");
    if (!node) return;
    const auto* table = node->as_table();
    if (!table) {
      fail(position(*node), "'limits' must be a table ([limits])");
      return;
    }
    for (const auto& [key, value] : *table) {
      const LimitField* field = nullptr;
      std::vector<std::string_view> names;
      for (const auto& f : limit_fields()) {
        names.push_back(f.scenario_key);
        if (f.scenario_key == key.str()) field = &f;
      }
      if (!field) {
        fail(position(value), fmt::format("unknown limit '{}' (expected one of: {})", key.str(), join(names)));
        continue;
      }
      std::string text;
      if (auto str = value.value_exact<std::string>()) text = *str;
      else if (auto number = value.value_exact<int64_t>(); number && *number >= 0) text = std::to_string(*number);
      else {
        fail(position(value), fmt::format("limit '{}' must be a string such as \"2MiB\" or \"20s\"", key.str()));
        continue;
      }
      if (auto error = set_limit(s.limits, *field, text)) fail(position(value), *error);
    }
  }

  // Every {name} in the step's strings must be a declared param.
  void check_placeholders(const toml::node& node, const std::map<std::string, std::string>& declared) {
    if (auto text = node.value_exact<std::string>()) {
      if (auto substituted = substitute_params(*text, declared); !substituted) fail(position(node), substituted.error());
    } else if (const auto* array = node.as_array()) {
      for (const auto& item : *array) check_placeholders(item, declared);
    } else if (const auto* table = node.as_table()) {
      for (const auto& [key, value] : *table) check_placeholders(value, declared);
    }
  }

  void read_steps(const toml::table& root, Scenario& s) {
    const auto* node = root.get("step");
    if (!node) {
      fail({1, 1}, "no steps: add at least one [[step]] table");
      return;
    }
    const auto* array = node->as_array();
    if (!array || !array->is_array_of_tables()) {
      fail(position(*node), "'step' must be an array of tables ([[step]])");
      return;
    }
    std::map<std::string, std::string> declared;
    for (const auto& [name, values] : s.params) declared[name] = values.front();
    for (const auto& source : s.param_sources)
      for (const auto& part : source.parts()) declared[source.param + "." + part] = source.placeholder();
    int index = 0;
    for (const auto& item : *array) {
      const auto& table = *item.as_table();
      Step step;
      step.index = index++;
      step.at = position(table);
      step.args = nlohmann::json::object();
      const auto* op_node = table.get("op");
      auto op_name = op_node ? op_node->value_exact<std::string>() : std::nullopt;
      if (!op_name) {
        fail(op_node ? position(*op_node) : step.at, fmt::format("step {}: missing 'op' (a string)", step.index));
        continue;
      }
      const OpSpec* op = find_op(*op_name);
      if (!op) {
        std::vector<std::string_view> names;
        for (const auto& o : scenario_ops()) names.push_back(o.name);
        fail(position(*op_node), fmt::format("step {}: unknown op '{}' (expected one of: {})", step.index, *op_name,
                                             join(names)));
        continue;
      }
      step.op = *op_name;
      step.key_at["op"] = position(*op_node);
      for (const auto& [key, value] : table) {
        if (key.str() == "op") continue;
        if (!op->key(key.str()) && !is_common_step_key(key.str())) {
          fail(position(value), fmt::format("step {} ({}): unknown key '{}' (expected: {})", step.index, step.op,
                                            key.str(), op_key_names(*op)));
          continue;
        }
        check_placeholders(value, declared);
        step.args[std::string(key.str())] = to_json(value);
        step.key_at[std::string(key.str())] = position(value);
      }
      for (const auto& key : op->keys)
        if (key.required && !table.get(key.name))
          fail(step.at, fmt::format("step {} ({}): missing required key '{}' ({})", step.index, step.op, key.name,
                                    to_string(key.type)));
      s.steps.push_back(std::move(step));
    }
  }

  void read_expect(const toml::table& root, Scenario& s) {
    const auto* node = root.get("expect");
    if (!node) {
      fail({1, 1}, "missing [expect] (at least: outcome = \"ok\")");
      return;
    }
    const auto* table = node->as_table();
    if (!table) {
      fail(position(*node), "'expect' must be a table ([expect])");
      return;
    }
    for (const auto& [key, value] : *table)
      if (!listed(kExpectKeys, key.str()))
        fail(position(value), fmt::format("unknown expectation '{}' (expected: {})", key.str(), join(op_keys(kExpectKeys))));
    // One kind, or alternatives: "ok|error".
    if (std::string outcome = required_string(*table, "outcome"); !outcome.empty()) {
      Checked<OutcomeKinds> kinds = parse_outcome_kinds(outcome);
      if (kinds)
        s.expect.outcome = std::move(*kinds);
      else
        fail(position_of(*table, "outcome"), kinds.error());
    }
    s.expect.code = optional_string(*table, "code");
    s.expect.signal = optional_string(*table, "signal");
    if (!s.expect.signal.empty() && !parse_signal_name(s.expect.signal))
      fail(position_of(*table, "signal"), fmt::format("unknown signal '{}' (e.g. \"SIGBUS\")", s.expect.signal));
    s.expect.check = optional_string(*table, "check");
    s.expect.message = optional_string(*table, "message");
    if (const auto* step = table->get("step")) {
      auto index = step->value_exact<int64_t>();
      if (!index || *index < 0 || *index >= static_cast<int64_t>(s.steps.size()))
        fail(position(*step), fmt::format("expect.step must be a step index from 0 to {}", s.steps.size() - 1));
      else
        s.expect.step = static_cast<int>(*index);
    }
  }

  std::string path_;
  std::vector<ScenarioError> errors_;
};

}  // namespace

std::string ScenarioError::text() const { return fmt::format("{}:{}:{}: {}", file, at.line, at.column, message); }

ScenarioParse parse_scenario(std::string_view text, const std::string& path) { return Parser(path).run(text); }

ScenarioParse load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ScenarioParse result;
    result.errors.push_back({path, {0, 0}, "cannot read the file"});
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

}  // namespace crashgate
