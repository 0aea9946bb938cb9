// `crashgate list`: the cells `crashgate run` would run with the same selection.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/run_commands.h"
#include "cli/selection_options.h"
#include "crashgate/cli.h"

namespace crashgate {

void add_list_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SelectionOptions>();
  auto* list = app.add_subcommand("list", "List the cells `run` would run: one a line, id then origin");
  add_selection_options(*list, *options);
  list->footer(fmt::format("Exit status: 0 listed (an empty shard or selection lists nothing), {} usage, scenario-file or shard errors.", kExitUsage));
  list->callback([options, &exit_code] {
    auto cells = load_selected_cells(*options, 0, "list");
    if (!cells) {
      exit_code = kExitUsage;
      return;
    }
    std::size_t width = 0;
    for (const auto& c : *cells) width = std::max(width, c.cell.id.size());
    for (const auto& c : *cells)
      std::cout << fmt::format("{:<{}}  {}\n", c.cell.id, width, c.origin.empty() ? "-" : c.origin);
    if (cells->empty()) std::cerr << "crashgate list: no cells match the selection\n";
    exit_code = 0;
  });
}

}  // namespace crashgate
