// The options `run` and `list` share: which scenario files, which cells.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "crashgate/cell_selection.h"

namespace crashgate {

struct SelectionOptions {
  std::vector<std::string> paths;    // default: scenarios/
  CellSelection selection;
};

void add_selection_options(CLI::App& command, SelectionOptions& options);

// Loads the scenarios and selects the cells. On any scenario or selection
// error prints them all (file:line:column) to stderr and returns nothing.
// Params taken from a target's tables are filled by asking drivers under
// `build_root` ("" = default_build_root()).
std::optional<std::vector<PlannedCell>> load_selected_cells(const SelectionOptions& options, std::uint64_t seed,
                                                            const char* command, const std::string& build_root = "");

}  // namespace crashgate
