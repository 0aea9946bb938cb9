// The run loop: first every cell once, in parallel; then, round by round,
// the cells still failing, until they pass (flaky) or the reruns run out.
#include "crashgate/run_matrix.h"

#include <fmt/format.h>

#include <filesystem>

#include "crashgate/driver_location.h"
#include "crashgate/driver_protocol.h"

namespace crashgate {
namespace {

Outcome harness_error(std::string detail) {
  Outcome o;
  o.kind = OutcomeKind::harness_error;
  o.detail = std::move(detail);
  return o;
}

std::string attempt_dir(const RunPlan& plan, std::size_t cell, int attempt) {
  return fmt::format("{}/cells/{}/attempt-{}", plan.run_dir, cell, attempt);
}

// The cell's verdict from its attempts so far: the first one's, unless a rerun passed a failure.
Verdict final_verdict(const CellResult& r) {
  if (r.attempts.empty()) return Verdict::not_run;
  Verdict first = r.attempts.front().verdict;
  if (first != Verdict::fail) return first;
  for (std::size_t k = 1; k < r.attempts.size(); ++k)
    if (r.attempts[k].verdict == Verdict::pass) return Verdict::flaky;
  return Verdict::fail;
}

// A passing attempt's store is of no further use, and a large matrix of them
// would fill the disk; its cell.json stays, to say what ran.
void prune_work_dir(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename() != "cell.json") std::filesystem::remove_all(it->path(), ec);
}

// Runs attempt number `attempt` of each listed cell; results gain one Attempt each.
void run_round(const RunPlan& plan, const RunContext& context, const std::vector<std::size_t>& which, int attempt,
               std::vector<CellResult>& results, const AttemptCallback& on_attempt) {
  std::vector<RunSpec> specs;
  std::vector<std::size_t> spec_cell;  // specs[k] runs cell spec_cell[k]
  auto record = [&](std::size_t i, Outcome outcome, const std::string& dir) {
    bool cancelled = context.cancellation && context.cancellation->cancelled();
    results[i].attempts.push_back(judged_attempt(results[i].cell, std::move(outcome), dir, cancelled));
    results[i].verdict = final_verdict(results[i]);
    if (results[i].attempts.back().verdict == Verdict::pass && !plan.keep_passing_work_dirs && !dir.empty())
      prune_work_dir(dir);
    if (on_attempt) on_attempt(i, results[i], results[i].attempts.back());
  };
  for (std::size_t i : which) {
    std::string dir = attempt_dir(plan, i, attempt);
    std::string error;
    std::optional<RunSpec> spec;
    if (auto missing = missing_driver_message(results[i].driver, results[i].cell.build, results[i].cell.target))
      error = *missing;
    else if (auto made = attempt_spec(results[i].cell, results[i].driver, dir))
      spec = std::move(*made);
    else
      error = made.error();
    if (!spec) {
      record(i, harness_error(error), "");  // nothing ran, so no work directory to look at
      continue;
    }
    if (i < plan.cell_env.size())
      spec->env.insert(spec->env.end(), plan.cell_env[i].begin(), plan.cell_env[i].end());
    specs.push_back(std::move(*spec));
    spec_cell.push_back(i);
  }
  run_parallel(specs, plan.jobs, context, [&](std::size_t k, const Outcome& outcome) {
    record(spec_cell[k], outcome, specs[k].work_dir);
  });
}

}  // namespace

Attempt judged_attempt(const Cell& cell, Outcome outcome, std::string work_dir, bool cancelled) {
  Attempt a;
  Judgement j = judge(cell.expect, outcome);
  a.verdict = j.verdict;
  a.unmet = std::move(j.unmet);
  if (cancelled && outcome.kind == OutcomeKind::harness_error) {
    a.verdict = Verdict::not_run;
    a.unmet.clear();
  }
  a.outcome = std::move(outcome);
  a.work_dir = std::move(work_dir);
  return a;
}

Checked<RunSpec> attempt_spec(const Cell& cell, const std::string& driver, const std::string& work_dir) {
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);  // a store left by an earlier attempt would change the outcome
  if (ec) return failure(fmt::format("cannot clear the work directory {}: {}", work_dir, ec.message()));
  return cell_run_spec(cell, {driver}, work_dir);
}

std::string cell_repro_command(const std::string& program, const std::string& cell_id, const std::string& run_dir) {
  return fmt::format("{} repro {} --run {}", shell_quote(program), shell_quote(cell_id), shell_quote(run_dir));
}

std::vector<CellResult> run_matrix(const RunPlan& plan, const RunContext& context, const AttemptCallback& on_attempt) {
  std::vector<CellResult> results(plan.cells.size());
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    const PlannedCell& p = plan.cells[i];
    CellResult& r = results[i];
    r.cell = p.cell;
    r.scenario_file = p.scenario_file;
    r.summary = p.summary;
    r.origin = p.origin;
    r.driver = driver_path(plan.build_root, p.cell.build, p.cell.target);
    r.repro = cell_repro_command(plan.repro_program, p.cell.id,
                                 plan.repro_run_dir.empty() ? plan.run_dir : plan.repro_run_dir);
    all.push_back(i);
  }
  run_round(plan, context, all, 1, results, on_attempt);
  for (int rerun = 1; rerun <= plan.rerun_failures; ++rerun) {
    if (context.cancellation && context.cancellation->cancelled()) break;
    std::vector<std::size_t> failing;
    for (std::size_t i = 0; i < results.size(); ++i)
      if (!results[i].attempts.empty() && results[i].attempts.back().verdict == Verdict::fail) failing.push_back(i);
    if (failing.empty()) break;
    run_round(plan, context, failing, rerun + 1, results, on_attempt);
  }
  for (auto& r : results) r.verdict = final_verdict(r);
  return results;
}

}  // namespace crashgate
