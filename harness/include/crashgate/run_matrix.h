// Running a selection of cells: each in its own work directory, in parallel,
// judged against its expectation; failures rerun to tell flaky from failing.
// Thread rule: call from one thread; the callback is called from worker
// threads, one call at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/cell_selection.h"
#include "crashgate/checked.h"
#include "crashgate/run_results.h"
#include "crashgate/runner.h"

namespace crashgate {

struct RunPlan {
  std::vector<PlannedCell> cells;
  std::string build_root;          // drivers: driver_location.h
  std::string run_dir;             // cell i's attempt k runs in RUN_DIR/cells/<i>/attempt-<k>
  unsigned jobs = 0;               // 0: default_jobs()
  int rerun_failures = 0;          // reruns of a failing cell; one pass makes it flaky
  bool keep_passing_work_dirs = false;  // false: a passing attempt's work dir keeps only its cell.json
  std::string repro_program = "crashgate";  // how each cell's repro command names crashgate
  std::string repro_run_dir;       // how it names the run directory ("" = run_dir)
  // Extra environment for cell i's every attempt, when cell_env has an entry i
  // (on top of the cell's own: CRASHGATE_SEED, ...), e.g. where a coverage build writes its profile.
  std::vector<std::vector<std::pair<std::string, std::string>>> cell_env;
};

// Called after every attempt (first runs, then reruns), with the cell's result
// so far: `cell.verdict` is final only once its attempts are over.
using AttemptCallback = std::function<void(std::size_t cell_index, const CellResult& cell, const Attempt& attempt)>;

// Runs every cell of the plan; after cancellation, what had not finished is not-run.
std::vector<CellResult> run_matrix(const RunPlan& plan, const RunContext& context,
                                   const AttemptCallback& on_attempt = {});

// The RunSpec for one attempt of `cell` with `driver` in `work_dir` (a fresh
// directory holding the cell.json it writes); the failure is the harness error that prevents it.
Checked<RunSpec> attempt_spec(const Cell& cell, const std::string& driver, const std::string& work_dir);

// `crashgate repro 'CELL' --run RUN_DIR`, shell-quoted.
std::string cell_repro_command(const std::string& program, const std::string& cell_id, const std::string& run_dir);

// Judges one attempt's outcome; after cancellation crashgate's own failures are not-run.
Attempt judged_attempt(const Cell& cell, Outcome outcome, std::string work_dir, bool cancelled);

}  // namespace crashgate
