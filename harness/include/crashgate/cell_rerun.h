// Running recorded cells again exactly as they ran (same seed, params, steps,
// limits, regression and build) in fresh work directories: what `crashgate
// repro` does for one cell and `crashgate gate` does for each failure it
// reruns before letting it block.
#pragma once

#include <string>
#include <vector>

#include "crashgate/run_results.h"
#include "crashgate/runner.h"

namespace crashgate {

// The driver a rerun uses: the one the run used, unless `build_root_option`
// (or else $CRASHGATE_BUILD_ROOT) names another build root.
std::string rerun_driver(const CellResult& cell, const std::string& build_root_option);

struct CellRerun {
  const CellResult* cell = nullptr;
  std::string driver;    // rerun_driver()
  std::string work_dir;  // cleared first
};

// Runs each rerun, up to `jobs` at a time (0 = default_jobs()), and judges it.
// A missing driver or an unusable work directory is a harness-error attempt.
std::vector<Attempt> rerun_cells(const std::vector<CellRerun>& reruns, unsigned jobs, const RunContext& context);

}  // namespace crashgate
