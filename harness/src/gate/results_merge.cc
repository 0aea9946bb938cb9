#include "crashgate/results_merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "crashgate/cli.h"

namespace crashgate {

int run_exit_code(const RunResults& r) {
  if (r.interrupted) return kExitInterrupted;
  auto counts = r.counts();
  if (counts[Verdict::fail] > 0) return kExitCellsFailed;
  if (counts[Verdict::harness_error] > 0 || counts[Verdict::not_run] > 0) return kExitHarnessError;
  return 0;
}

// Shards of one change-aware run: each selected from its own cells, so the counts add up.
static void merge_change(std::optional<ChangeScope>& into, const ChangeScope& shard) {
  if (!into) {
    into = shard;
    return;
  }
  into->total += shard.total;
  for (auto member : {&ChangeScope::by_footprint, &ChangeScope::by_scenario, &ChangeScope::by_driver,
                      &ChangeScope::by_engine, &ChangeScope::unrecorded, &ChangeScope::sampled})
    (*into).*member += shard.*member;
  into->why.insert(shard.why.begin(), shard.why.end());
  into->skipped.insert(into->skipped.end(), shard.skipped.begin(), shard.skipped.end());
}

Checked<RunResults> merge_results(const std::vector<RunResults>& runs) {
  if (runs.empty()) return failure("nothing to merge");
  RunResults out;
  const RunResults& first = runs.front();
  out.seed = first.seed;
  out.crashgate_version = first.crashgate_version;
  out.host = first.host;
  out.build_root = first.build_root;
  out.jobs = first.jobs;
  out.rerun_failures = first.rerun_failures;
  out.regression = first.regression;
  std::map<std::string, std::size_t> run_of_cell;  // cell id -> index into runs
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const RunResults& run = runs[k];
    // Cells of runs with different seeds or regressions are different experiments.
    if (run.seed != first.seed)
      return failure(fmt::format("run {} has seed {}, run {} seed {}: shards of one run share its seed", run.run_id,
                                 run.seed, first.run_id, first.seed));
    if (run.regression != first.regression)
      return failure(fmt::format("run {} switched on regression '{}', run {} '{}': shards of one run switch on the same",
                                 run.run_id, run.regression, first.run_id, first.regression));
    if (run.change.has_value() != first.change.has_value() ||
        (run.change && (run.change->merge_base != first.change->merge_base || run.change->head != first.change->head)))
      return failure(fmt::format("run {} and run {} selected different changes (--changed): shards of one run select the same",
                                 run.run_id, first.run_id));
    if (run.change) merge_change(out.change, *run.change);
    out.duration_ms = std::max(out.duration_ms, run.duration_ms);
    out.interrupted = out.interrupted || run.interrupted;
    int contributed = 0;
    for (const auto& cell : run.cells) {
      auto [it, inserted] = run_of_cell.emplace(cell.cell.id, k);
      if (!inserted) {
        const RunResults& other = runs[it->second];
        auto same = std::find_if(out.cells.begin(), out.cells.end(), [&](const CellResult& c) { return c.cell.id == cell.cell.id; });
        if (same->verdict != cell.verdict)
          return failure(fmt::format("cell '{}' is {} in run {} ({}) but {} in run {} ({}): merge shards that do not overlap",
                                     cell.cell.id, to_string(same->verdict), other.run_id, other.run_dir,
                                     to_string(cell.verdict), run.run_id, run.run_dir));
        continue;
      }
      out.cells.push_back(cell);
      ++contributed;
    }
    // A run that was itself merged contributes its parts, so merging stays flat.
    if (!run.merged_from.empty()) {
      out.merged_from.insert(out.merged_from.end(), run.merged_from.begin(), run.merged_from.end());
    } else {
      out.merged_from.push_back({run.run_id, run.run_dir, run.shard, run.host, run.duration_ms, contributed});
    }
  }
  out.exit_code = run_exit_code(out);
  return out;
}

}  // namespace crashgate
