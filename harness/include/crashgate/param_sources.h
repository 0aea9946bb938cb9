// Filling params that come from a target's own tables (scenario.h,
// ParamSource): the target's driver lists them (`--list failpoints`, one JSON
// object a line: name, syscall, write_path, compiled_in), built under the build
// root for one of the scenario's builds.
#pragma once

#include <string>
#include <vector>

#include "crashgate/cell_selection.h"

namespace crashgate {

// Replaces each source's placeholder with the matching names, in table order,
// asking the driver of one of the scenario's selected builds or, when none is
// built, of any build of the target (the names are the same in every build).
// No driver built at all, or one that cannot list the table, is an error that
// names the file and the command that builds one.
// Scenarios without sources, or outside the selection, are left alone.
std::vector<ScenarioError> resolve_param_sources(ScenarioCatalog& catalog, const CellSelection& selection,
                                                 const std::string& build_root);

}  // namespace crashgate
