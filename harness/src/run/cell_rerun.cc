#include "crashgate/cell_rerun.h"

#include <cstdlib>

#include "crashgate/driver_location.h"
#include "crashgate/run_matrix.h"

namespace crashgate {

std::string rerun_driver(const CellResult& cell, const std::string& build_root_option) {
  std::string root = build_root_option;
  if (root.empty())
    if (const char* env = std::getenv("CRASHGATE_BUILD_ROOT"); env && *env) root = env;
  return root.empty() ? cell.driver : driver_path(root, cell.cell.build, cell.cell.target);
}

std::vector<Attempt> rerun_cells(const std::vector<CellRerun>& reruns, unsigned jobs, const RunContext& context) {
  std::vector<Attempt> attempts(reruns.size());
  std::vector<RunSpec> specs;
  std::vector<std::size_t> spec_rerun;  // specs[k] runs reruns[spec_rerun[k]]
  for (std::size_t i = 0; i < reruns.size(); ++i) {
    const CellRerun& r = reruns[i];
    std::string error;
    std::optional<RunSpec> spec;
    if (auto missing = missing_driver_message(r.driver, r.cell->cell.build, r.cell->cell.target))
      error = *missing;
    else if (auto made = attempt_spec(r.cell->cell, r.driver, r.work_dir))
      spec = std::move(*made);
    else
      error = made.error();
    if (!spec) {
      Outcome o;
      o.kind = OutcomeKind::harness_error;
      o.detail = error;
      attempts[i] = judged_attempt(r.cell->cell, std::move(o), "", false);
      continue;
    }
    specs.push_back(std::move(*spec));
    spec_rerun.push_back(i);
  }
  auto outcomes = run_parallel(specs, jobs, context);
  bool cancelled = context.cancellation && context.cancellation->cancelled();
  for (std::size_t k = 0; k < outcomes.size(); ++k) {
    std::size_t i = spec_rerun[k];
    attempts[i] = judged_attempt(reruns[i].cell->cell, std::move(outcomes[k]), reruns[i].work_dir, cancelled);
  }
  return attempts;
}

}  // namespace crashgate
