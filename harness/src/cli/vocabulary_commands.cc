// `crashgate kinds`, `crashgate ops`, `crashgate check`: the vocabularies and
// the scenario parser, printed from their tables.
#include "cli/vocabulary_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "crashgate/cli.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"

namespace crashgate {

void add_vocabulary_commands(CLI::App& app, int& exit_code) {
  app.add_subcommand("kinds", "List the outcome kinds and the exit status `exec` gives each")->callback([&exit_code] {
    for (const auto& kind : outcome_kinds())
      std::cout << fmt::format("{:<15} {:>3}  {}\n", kind.name, kind.exit_code, kind.meaning);
    exit_code = 0;
  });
  auto markdown = std::make_shared<bool>(false);
  auto* ops = app.add_subcommand("ops", "List the scenario step ops: each key with its type, and which ops open the store");
  ops->add_flag("--markdown", *markdown, "Print the table as reports/driver-protocol.md holds it");
  ops->callback([markdown, &exit_code] {
    exit_code = 0;
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
  check->add_option("files", *files, "Scenario files (.toml)")->required();
  check->footer(fmt::format("Exit status: 0 every file is valid, {} a file has errors (each printed as file:line:column), {} usage.", kExitCheckFailed, kExitUsage));
  check->callback([files, &exit_code] {
    exit_code = 0;
    for (const auto& path : *files) {
      auto parsed = load_scenario(path);
      for (const auto& error : parsed.errors) std::cerr << error.text() << "\n";
      if (!parsed.scenario) {
        exit_code = kExitCheckFailed;
        continue;
      }
      auto cells = expand_cells(*parsed.scenario);
      std::cout << fmt::format("{}: {} steps, {} cells\n", path, parsed.scenario->steps.size(), cells.size());
      for (const auto& cell : cells) std::cout << "  " << cell.id << "\n";
    }
  });
}

}  // namespace crashgate
