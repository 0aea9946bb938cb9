// `crashgate merge`: the results of several runs (the shards of one run, as a
// CI fleet produces them) joined into one results document.
#pragma once

#include <string>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/run_results.h"

namespace crashgate {

// Joins `runs` in order: their cells, one each (a cell in two runs with the
// same verdict is kept once; with different verdicts it is a failure naming the
// cell and both runs), `merged_from` listing each run, the exit code recomputed.
// Runs with different seeds or regressions fail too, naming both runs.
// The caller sets the merged run's own run_id, run_dir and started_at.
Checked<RunResults> merge_results(const std::vector<RunResults>& runs);

// The exit code `crashgate run` gives results with these verdicts (0, 1, 3 or 130).
int run_exit_code(const RunResults& results);

}  // namespace crashgate
