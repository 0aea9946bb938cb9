// `crashgate list`: the cells `crashgate run` would run with the same selection.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/run_commands.h"
#include "cli/selection_options.h"
#include "crashgate/cli.h"
#include "crashgate/limits.h"

namespace crashgate {

void add_list_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SelectionOptions>();
  auto explain = std::make_shared<bool>(false);
  auto* list = app.add_subcommand("list", "List the cells `run` would run: one a line, id then origin (with --changed: "
                                          "id then why the change selects it)");
  add_selection_options(*list, *options);
  list->add_flag("--explain", *explain,
                 "Also say, for each scenario of targets = [\"*\"], which built targets were left out and the op or value that ruled each out");
  list->footer(fmt::format("Exit status: 0 listed (an empty shard or selection lists nothing), {} usage, scenario-file or shard errors.", kExitUsage));
  list->callback([options, explain, &exit_code] {
    std::vector<RuledOut> ruled_out;
    std::optional<ChangeScope> change;
    auto cells = load_selected_cells(*options, 0, "list", "", nullptr, &ruled_out, &change);
    if (!cells) {
      exit_code = kExitUsage;
      return;
    }
    std::size_t width = 0;
    for (const auto& c : *cells) width = std::max(width, c.cell.id.size());
    // With --changed, the second column says why each cell was selected.
    for (const auto& c : *cells)
      std::cout << fmt::format("{:<{}}  {}\n", c.cell.id, width,
                               change ? change->why.at(c.cell.id) : c.origin.empty() ? "-" : c.origin);
    if (change)
      std::cerr << fmt::format("crashgate list: {}: {}; {} skipped\n", change->headline(), change->breakdown(),
                               format_thousands(change->skipped.size()));
    else if (cells->empty())
      std::cerr << "crashgate list: no cells match the selection\n";
    if (*explain) {
      for (const auto& r : ruled_out)
        std::cout << fmt::format("ruled out: {} on {}: {} cell{} not made; the first because {}\n", r.scenario, r.target, r.cells,
                                 r.cells == 1 ? "" : "s", r.reason);
      if (ruled_out.empty()) std::cout << "ruled out: nothing (every target of every selected scenario can run its cells)\n";
    }
    exit_code = 0;
  });
}

}  // namespace crashgate
