// Which cells a run runs: scenario files found under the given paths, every
// one parsed (one bad file stops the run before anything starts), expanded to
// cells and narrowed by --build, --target and --filter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/scenario.h"

namespace crashgate {

struct ScenarioCatalog {
  std::vector<Scenario> scenarios;    // in path order, files sorted within each directory
  std::vector<ScenarioError> errors;  // every problem in every file; non-empty means run nothing
};

// Loads each path: a directory contributes every *.toml below it (recursively),
// a file itself. Missing paths, parse errors and two files declaring the same
// scenario name (their cell ids would collide) are errors.
ScenarioCatalog load_catalog(const std::vector<std::string>& paths);
// The scenario files PATHS name: each file as given, each directory's *.toml
// below it in name order. A path that does not exist is an error.
std::vector<std::string> scenario_files(const std::vector<std::string>& paths, std::vector<ScenarioError>& errors);

struct CellSelection {
  std::vector<std::string> builds;   // empty: every build a scenario names
  std::vector<std::string> targets;  // empty: every target a scenario names
  std::vector<std::string> filters;  // globs over cell ids; a cell matching any is kept; empty keeps all
};

// A cell and where it came from, for reports.
struct PlannedCell {
  Cell cell;
  std::string scenario_file;
  std::string summary;
  std::string origin;
};

// The catalog's cells (expand_cells with `seed`) that the selection keeps, in catalog order.
std::vector<PlannedCell> select_cells(const ScenarioCatalog& catalog, const CellSelection& selection,
                                      std::uint64_t seed);

// Values of --build and --target that no scenario in the catalog names:
// almost always a typo, which must not silently select nothing.
std::vector<std::string> unknown_selection_values(const ScenarioCatalog& catalog, const CellSelection& selection);

// Glob over a cell id: `*` any run of characters (including '/'), `?` one
// character; everything else, '[' included, is literal, because cell ids
// carry their params in brackets ("name/vstore/asan[cut=0]").
bool cell_glob_match(std::string_view pattern, std::string_view id);

}  // namespace crashgate
