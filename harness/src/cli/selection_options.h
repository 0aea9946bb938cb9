// The options `run` and `list` share: which scenario files, which cells.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "crashgate/cell_selection.h"
#include "crashgate/change_scope.h"
#include "crashgate/shard.h"
#include "crashgate/target_support.h"

namespace crashgate {

struct SelectionOptions {
  std::vector<std::string> paths;    // default: scenarios/
  CellSelection selection;
  std::vector<std::string> in_builds;  // --in-builds: every scenario runs in these builds, not the ones it names
  std::string shard;                 // --shard I/N; "" = the environment's (shard.h), else all
  std::string changed;               // --changed BASE: only the cells the change since BASE can reach
  std::string footprints;            // --footprints FILE ("" = the repository's reports/footprints.json when present)
  double sample = 0.05;              // --change-sample: of the cells the change does not reach, this fraction runs anyway
  unsigned concurrency_seeds = 3;    // --concurrency-seeds: runs of a concurrency cell changed engine code reached
  bool all = false;                  // --all: every selected cell, --changed or not
};

void add_selection_options(CLI::App& command, SelectionOptions& options);

// The directory whose git repository --changed is measured in: the first
// scenario path's (a file's parent), else the current directory.
std::string selection_repository(const SelectionOptions& options);

// Loads the scenarios and selects the cells (of one shard, when sharded; the
// shard in effect goes to `shard_out`). On any scenario or selection error
// prints them all (file:line:column) to stderr and returns nothing. Params
// taken from a target's tables are filled by asking drivers under
// `build_root` ("" = default_build_root()); so are `targets = ["*"]`, and
// every cell is held to what its target's driver lists (target_support.h):
// the cells a `*` scenario's target cannot run go to `ruled_out`. With
// --changed (and not --all) only the cells the change reaches are returned,
// and `change_out` says which and why (change_selection.h).
std::optional<std::vector<PlannedCell>> load_selected_cells(const SelectionOptions& options, std::uint64_t seed,
                                                            const char* command, const std::string& build_root = "",
                                                            std::optional<Shard>* shard_out = nullptr,
                                                            std::vector<RuledOut>* ruled_out = nullptr,
                                                            std::optional<ChangeScope>* change_out = nullptr);

}  // namespace crashgate
