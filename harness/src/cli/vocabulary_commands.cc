// `crashgate kinds`, `crashgate ops`, `crashgate check`: the vocabularies and
// the scenario parser, printed from their tables.
#include "cli/vocabulary_commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "crashgate/cli.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"
#include "crashgate/builds.h"
#include "crashgate/cell_selection.h"
#include "crashgate/driver_location.h"
#include "crashgate/param_sources.h"
#include "crashgate/target_support.h"

namespace crashgate {
namespace {

nlohmann::json key_json(const KeySpec& key) {
  nlohmann::json k = {{"name", key.name}, {"type", to_string(key.type)}, {"required", key.required}, {"meaning", key.meaning}};
  if (key.type == ValueType::enumeration) {
    nlohmann::json values = nlohmann::json::array();
    for (auto v : op_keys(key.values)) values.push_back(v);
    if (key.engine_values()) {
      k["engine_values"] = true;
      if (std::vector<std::string> defaults = key.driver_defaults(); !defaults.empty()) k["default_values"] = defaults;
    } else {
      k["values"] = values;
    }
  }
  if (key.min != 0) k["min"] = key.min;
  if (key.max != kNoMax) k["max"] = key.max;
  return k;
}

nlohmann::json op_json(const OpSpec& op) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& key : op.keys) keys.push_back(key_json(key));
  for (const auto& key : common_step_keys()) keys.push_back(key_json(key));
  return {{"op", op.name}, {"needs_store", op.needs_store}, {"summary", op.summary}, {"keys", keys}};
}

}  // namespace

void add_vocabulary_commands(CLI::App& app, int& exit_code) {
  app.add_subcommand("kinds", "List the outcome kinds and the exit status `exec` gives each")->callback([&exit_code] {
    for (const auto& kind : outcome_kinds())
      std::cout << fmt::format("{:<15} {:>3}  {}\n", kind.name, kind.exit_code, kind.meaning);
    exit_code = 0;
  });
  auto markdown = std::make_shared<bool>(false);
  auto as_json = std::make_shared<bool>(false);
  auto* ops = app.add_subcommand("ops", "List the scenario step ops: each key with its type, and which ops open the store");
  ops->add_flag("--markdown", *markdown, "Print the table as reports/driver-protocol.md holds it");
  ops->add_flag("--json", *as_json, "Print one JSON object per op: its keys with type, values, range (driver kits read this)");
  ops->callback([markdown, as_json, &exit_code] {
    exit_code = 0;
    if (*as_json) {
      for (const auto& op : scenario_ops()) std::cout << op_json(op).dump() << "\n";
      return;
    }
    if (*markdown) {
      std::cout << op_table_markdown();
      return;
    }
    for (const auto& op : scenario_ops()) {
      std::cout << fmt::format("{:<19}{}{}\n", op.name, op.summary, op.needs_store ? " [opens the store]" : "");
      for (const auto& key : op.keys)
        std::cout << fmt::format("    {:<17}{:<9} {:<44} {}\n", key.name, key.required ? "required" : "optional",
                                 key_type_text(key), key.meaning);
    }
    std::cout << "every step may also have:\n";
    for (const auto& key : common_step_keys())
      std::cout << fmt::format("    {:<17}{:<9} {:<44} {}\n", key.name, "optional", key_type_text(key), key.meaning);
  });
  auto files = std::make_shared<std::vector<std::string>>();
  auto* check = app.add_subcommand("check", "Parse scenario files, report every error (file:line:column), list cells");
  check->add_option("files", *files, "Scenario files (.toml), or directories of them")->required();
  check->footer(fmt::format("Exit status: 0 every file is valid, {} a file has errors (each printed as file:line:column), {} usage.", kExitCheckFailed, kExitUsage));
  check->callback([files, &exit_code] {
    exit_code = 0;
    // Where drivers are built, each cell is also held to what its target lists (target_support.h).
    TargetSupport support(default_build_root());
    std::vector<ScenarioError> missing;
    std::vector<std::string> paths = scenario_files(*files, missing);
    for (const auto& error : missing) std::cerr << error.text() << "\n";
    if (!missing.empty()) exit_code = kExitCheckFailed;
    for (const auto& path : paths) {
      auto parsed = load_scenario(path);
      for (const auto& error : parsed.errors) std::cerr << error.text() << "\n";
      if (!parsed.scenario) {
        exit_code = kExitCheckFailed;
        continue;
      }
      ScenarioCatalog catalog;
      catalog.scenarios.push_back(*parsed.scenario);
      expand_all_targets(catalog, {}, support);
      // Params from a target's own table (failpoints, layout) take their
      // values from a built driver, as `run` does; with none built the cells
      // are listed with placeholders, which cannot be held to the target.
      const Scenario& s = catalog.scenarios.front();
      std::vector<std::string> all_builds(kBuilds.begin(), kBuilds.end());
      std::vector<std::string> built = support.built_targets(all_builds);
      bool askable = std::any_of(s.targets.begin(), s.targets.end(), [&](const std::string& t) {
        return std::find(built.begin(), built.end(), t) != built.end();
      });
      std::vector<ScenarioError> errors;
      if (!s.param_sources.empty() && askable) {
        errors = resolve_param_sources(catalog, {}, default_build_root());
        if (errors.empty()) errors = check_cell_values(catalog.scenarios.front());
      }
      auto cells = select_cells(catalog, {}, 0);
      if (errors.empty() && (s.param_sources.empty() || askable))
        errors = hold_cells_to_targets(catalog, cells, support, nullptr);
      else if (errors.empty())
        std::cout << fmt::format("{}: no driver of {} is built to fill its params from; its cells are not held to the "
                                 "target (build one: ci/build release)\n",
                                 path, fmt::join(s.targets, ", "));
      for (const auto& error : errors) std::cerr << error.text() << "\n";
      if (!errors.empty()) {
        exit_code = kExitCheckFailed;
        continue;
      }
      std::cout << fmt::format("{}: {} steps, {} cells\n", path, parsed.scenario->steps.size(), cells.size());
      for (const auto& cell : cells) std::cout << "  " << cell.cell.id << "\n";
    }
  });
}

}  // namespace crashgate
