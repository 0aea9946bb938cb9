// Scenario files (TOML) and the cells they expand to. Format: DESIGN.md,
// "Scenario files"; ops vocabulary: scenario_ops.h. A file with any error
// yields no scenario at all, so nothing runs half-parsed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/limits.h"

namespace crashgate {

struct SourcePosition {
  int line = 0;
  int column = 0;
  bool operator==(const SourcePosition&) const = default;
};

struct Step {
  int index = 0;             // 0-based position in the file
  std::string op;            // a name from scenario_ops.h
  nlohmann::json args;       // every key but "op", in its type's canonical form (step_values.h); in a
                             // scenario, a value with {param}s stays as written until its cell is made
  SourcePosition at;
  std::map<std::string, SourcePosition> key_at;  // where each key's value is written
};

struct Expectation {
  OutcomeKinds outcome;      // the kind, or alternatives ("ok|error" in a file)
  std::string code;          // for "error": the engine's error code
  std::string signal;        // for "signal": "SIGBUS"
  std::string check;         // for sanitizer kinds: "heap-buffer-overflow"
  std::optional<int> step;   // the step that should fail
  std::string message;       // a substring of the detail
};

// A param whose values are read from the target's own table when cells are
// made, so that a new failpoint site is covered without a new file:
// `site = { from = "failpoints", where = ["write-path"], name = "*.pwrite" }`,
// or every header field of every file the target's layout describes:
// `spot = { from = "layout", file = "*", field = "*" }`, whose values are
// "FILE.FIELD" and whose parts steps name as {spot.file}, {spot.at}
// (field(FIELD)), {spot.offset} and {spot.width}; those values are each target's own.
struct ParamSource {
  std::string param;
  std::string from;                  // "failpoints" or "layout"
  std::vector<std::string> where;    // failpoints: conditions that must all hold: syscall, logic, write-path, read-only
  std::string name_glob;             // failpoints: "" = any name
  std::string file_glob = "*";       // layout: which files
  std::string field_glob = "*";      // layout: which header fields
  SourcePosition at;
  std::string placeholder() const;   // the param's value until resolved: "<failpoints: write-path>"
  std::vector<std::string> parts() const;  // layout: file, at, offset, width; else none
};
bool is_param_source_condition(std::string_view word);
std::string param_source_conditions();  // "syscall, logic, write-path, read-only"

// `[crash_states]`: what `crashgate crash-check` does with the scenario's cells.
struct CrashStateSpec {
  std::string model = "posix";  // crash_states.h: posix, ext4-ordered
  std::uint64_t sample = 0;     // crash points checked, chosen by the cell's seed; 0: every call
  std::optional<std::pair<int, int>> steps;  // [first, last]: only these steps' calls are crash points
  // The switches crashgate matrix also checks through these crash states (a
  // crash_states cell each); the plain injected cells take every switch as before.
  std::vector<std::string> matrix_switches;
};

struct Scenario {
  std::string path;
  std::string name;
  std::string summary;
  std::string origin;
  std::string regression;
  std::vector<std::string> matrix_switches;              // crashgate matrix injects only these (a heavy scenario); empty: all
  std::vector<std::string> targets;                      // ["*"]: every target that can run it (target_support.h)
  bool all_targets = false;                              // written as ["*"], expanded to the built targets
  std::vector<std::string> builds;                       // default: ["release"]
  std::vector<std::pair<std::string, std::vector<std::string>>> params;  // in key order
  std::map<std::string, std::vector<SourcePosition>> param_value_at;     // where each param value is written
  std::vector<ParamSource> param_sources;                // params filled from the target (param_sources.h)
  // Params whose values are each target's own (from = "layout"): param -> target -> values,
  // and each value's parts: "TARGET\nPARAM=VALUE" -> {"PARAM.file": ..., "PARAM.at": ..., ...}.
  std::map<std::string, std::map<std::string, std::vector<std::string>>> target_params;
  std::map<std::string, std::map<std::string, std::string>> value_parts;
  Limits limits;
  std::vector<Step> steps;
  Expectation expect;
  // The driver runs the engine's own consistency check after every step (its kit's `invariants` handler).
  bool check_invariants = false;
  std::optional<CrashStateSpec> crash_states;
};

// One runnable combination: scenario x target x build x one value per param.
struct Cell {
  std::string id;            // "name/target/build[cut=0,mode=x]"
  std::string scenario;
  std::string target;
  std::string build;
  std::map<std::string, std::string> params;
  std::uint64_t seed = 0;
  Limits limits;
  std::vector<Step> steps;   // with {param} substituted
  Expectation expect;
  std::string regression;
  std::vector<std::string> matrix_switches;
  bool check_invariants = false;  // the scenario's, or `crashgate run --check-invariants`
  std::optional<CrashStateSpec> crash_states;  // the scenario's [crash_states]
};

struct ScenarioError {
  std::string file;
  SourcePosition at;
  std::string message;
  std::string text() const;  // "file:line:column: message"
};

struct ScenarioParse {
  std::optional<Scenario> scenario;  // set only when errors is empty
  std::vector<ScenarioError> errors;
};

ScenarioParse parse_scenario(std::string_view text, const std::string& path);
ScenarioParse load_scenario(const std::string& path);

// Every cell, in a stable order: targets, then builds, then params (cartesian
// product, the first param varying slowest). The seed is mixed with the cell id.
// Each step's values are substituted and put in their typed form; a value
// that is not what its key's type says is left as written (check_cell_values
// reports it, and the parser and the param-source resolution refuse such a scenario).
std::vector<Cell> expand_cells(const Scenario& scenario, std::uint64_t seed = 0);

// Every step value of every param combination checked against its key's type
// (step_values.h), after {param} substitution: an error names the step, the
// key, the param and its value, and a cell, at the param value's file:line:column
// (the key's, when the value comes from several params). Params still filled
// from a target's table (unresolved param sources) are skipped.
std::vector<ScenarioError> check_cell_values(const Scenario& scenario);

// Replaces each {param} in `text` ("{{" and "}}" are literal braces).
// The failure names the culprit: an unknown, unclosed or unmatched placeholder.
Checked<std::string> substitute_params(std::string_view text, const std::map<std::string, std::string>& values);

}  // namespace crashgate
