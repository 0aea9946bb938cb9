// `crashgate run`: every selected cell, in parallel, judged; results.json and a summary.
#include <sys/utsname.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <map>
#include <memory>

#include "cli/count_check.h"
#include "cli/interrupt.h"
#include "cli/run_commands.h"
#include "cli/run_progress.h"
#include "cli/selection_options.h"
#include "crashgate/cli.h"
#include "crashgate/driver_location.h"
#include "crashgate/report_writers.h"
#include "crashgate/gate_decision.h"
#include "crashgate/limits.h"
#include "crashgate/results_merge.h"
#include "crashgate/run_directory.h"
#include "crashgate/run_matrix.h"
#include "crashgate/run_regression.h"
#include "crashgate/summary_markdown.h"
#include "crashgate/triage.h"

#ifndef CRASHGATE_VERSION
#define CRASHGATE_VERSION "unknown"
#endif

namespace crashgate {
namespace {

// Fixed, so two runs of the same tree draw the same data; --seed explores others.
constexpr std::uint64_t kDefaultRunSeed = 1;

struct RunOptions {
  SelectionOptions select;
  unsigned jobs = 0;
  std::uint64_t seed = kDefaultRunSeed;
  int rerun_failures = 0;
  bool keep_work_dirs = false;
  std::string build_root;
  std::string out;
  std::string known_issues;
  std::string regression;
  bool check_invariants = false;
  std::vector<std::string> command_line;
};

std::string host_text() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return fmt::format("{} ({} {} {})", u.nodename, u.sysname, u.release, u.machine);
}

std::string iso_utc(std::chrono::system_clock::time_point at) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string this_program() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("crashgate") : display_path(exe.string());
}

// summary.md next to results.json: with no baseline, every failure is new.
void write_run_summary(const RunResults& results, const KnownIssues* known) {
  GateOptions gate;
  gate.known_issues = known;
  SummaryMarkdownOptions options;
  options.title = "crashgate run";
  options.run_dir = display_path(results.run_dir);
  if (auto written = write_summary_markdown(results.run_dir, summary_markdown(results, decide_gate(results, gate), options));
      !written)
    std::cerr << "crashgate run: " << written.error() << "\n";
}

std::optional<KnownIssues> load_known_issues(const std::string& option, bool& ok) {
  ok = true;
  std::string path = option;
  if (path.empty()) {
    if (!std::filesystem::exists(kDefaultKnownIssues)) return std::nullopt;
    path = kDefaultKnownIssues;
  }
  auto known = KnownIssues::load(path);
  if (!known) {
    std::cerr << "crashgate run: --known-issues: " << known.error() << "\n";
    ok = false;
    return std::nullopt;
  }
  return std::move(*known);
}

// --regression: added to every cell whose build has the switches; an error
// when none has, because a run that tests nothing must not pass.
bool apply_regression(const std::string& ids, const std::string& build_root, std::vector<PlannedCell>& cells) {
  if (auto why = regression_ids_error(ids)) {
    std::cerr << "crashgate run: --regression " << *why << "\n";
    return false;
  }
  std::map<std::string, bool> has;  // build -> compiled in
  std::size_t applied = 0;
  for (auto& c : cells) {
    auto [it, inserted] = has.emplace(c.cell.build, false);
    if (inserted) it->second = build_has_regressions(build_root, c.cell.build);
    if (!it->second) continue;
    add_regressions(c.cell, ids);
    ++applied;
  }
  if (applied == 0) {
    std::string builds;
    for (const auto& [build, _] : has) builds += (builds.empty() ? "" : ", ") + build;
    std::cerr << fmt::format("crashgate run: --regression {}: no selected build has regression switches compiled in "
                             "({} under {}; the debug, asan and tsan presets have them: ci/build debug)\n",
                             ids, builds.empty() ? "no cells" : builds, build_root);
    return false;
  }
  std::cout << fmt::format("crashgate run: regression {} switched on in {} of {} cells (the builds that have it)\n",
                           ids, applied, cells.size());
  return true;
}

int run_command(const RunOptions& options) {
  std::optional<Shard> shard;
  std::optional<ChangeScope> change;
  auto cells = load_selected_cells(options.select, options.seed, "run", options.build_root, &shard, nullptr, &change);
  if (!cells) return kExitUsage;
  // A shard may be empty when there are few cells; the fleet's other shards hold them. A change may reach none.
  if (cells->empty() && !shard && !change) {
    std::cerr << "crashgate run: no cells match the selection (crashgate list shows what there is)\n";
    return kExitUsage;
  }
  bool known_ok = true;
  auto known = load_known_issues(options.known_issues, known_ok);
  if (!known_ok) return kExitUsage;

  std::string build_root = options.build_root.empty() ? default_build_root() : options.build_root;
  build_root = std::filesystem::absolute(build_root).lexically_normal().string();
  if (!options.regression.empty() && !apply_regression(options.regression, build_root, *cells)) return kExitUsage;
  if (options.check_invariants)
    for (PlannedCell& c : *cells) c.cell.check_invariants = true;
  std::string reports = options.out.empty() ? build_root + "/reports" : options.out;
  reports = std::filesystem::absolute(reports).lexically_normal().string();
  auto run_dir = create_run_directory(reports);
  if (!run_dir) {
    std::cerr << "crashgate run: " << run_dir.error() << "\n";
    return kExitHarnessError;
  }

  RunPlan plan;
  plan.cells = std::move(*cells);
  plan.build_root = build_root;
  plan.run_dir = run_dir->path;
  plan.jobs = options.jobs ? options.jobs : default_jobs();
  plan.rerun_failures = options.rerun_failures;
  plan.keep_passing_work_dirs = options.keep_work_dirs;
  plan.repro_program = this_program();
  plan.repro_run_dir = display_path(run_dir->path);

  RunResults results;
  results.run_id = run_dir->id;
  results.run_dir = run_dir->path;
  results.seed = options.seed;
  results.crashgate_version = CRASHGATE_VERSION;
  results.host = host_text();
  results.command_line = options.command_line;
  results.build_root = build_root;
  results.jobs = plan.jobs;
  results.rerun_failures = plan.rerun_failures;
  if (shard) results.shard = shard->text();
  results.regression = options.regression;
  results.change = change;
  auto started = std::chrono::system_clock::now();
  auto started_steady = std::chrono::steady_clock::now();
  results.started_at = iso_utc(started);

  std::cout << fmt::format("crashgate run {}: {} cells{}, seed {}, -j {}; writing {}\n", run_dir->id, plan.cells.size(),
                           shard ? " (shard " + shard->text() + ")" : "", options.seed, plan.jobs,
                           display_path(run_dir->path));
  if (change)
    std::cout << fmt::format("crashgate run: {}: {}; {} skipped (--all runs them)\n", change->headline(), change->breakdown(),
                             format_thousands(change->skipped.size()));
  std::cout.flush();
  bool live = is_terminal(stdout);
  RunProgress progress(stdout, live, live ? terminal_width(stdout) : 80, plan.cells.size());
  Cancellation cancellation;
  {
    InterruptGuard guard(cancellation);
    RunContext context{&cancellation, known ? &*known : nullptr};
    results.cells = run_matrix(plan, context, [&](std::size_t, const CellResult& cell, const Attempt& attempt) {
      progress.attempt_done(cell, attempt);
    });
  }
  progress.finish();
  results.interrupted = cancellation.cancelled();
  results.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                              started_steady).count();
  results.exit_code = run_exit_code(results);

  std::cout << run_summary(results);
  if (auto written = write_results(results, run_dir->path); !written) {
    std::cerr << "crashgate run: " << written.error() << "\n";
    return kExitHarnessError;
  }
  write_run_summary(results, known ? &*known : nullptr);
  // The reports follow from results.json (`crashgate report` rewrites them); failing to write one is loud but
  // does not change the verdict.
  if (auto written = write_run_reports(run_dir->path, results, ReportOptions{}); !written)
    std::cerr << "crashgate run: reports: " << written.error() << " (`crashgate report " << display_path(run_dir->path)
              << "` writes them again)\n";
  if (auto pointed = point_latest(reports, run_dir->id); !pointed) std::cerr << "crashgate run: " << pointed.error() << "\n";
  std::cout << fmt::format("results: {}/{}\n", display_path(run_dir->path), kResultsFile);
  return results.exit_code;
}

std::string exit_codes_footer() {
  return fmt::format(
      "Exit status:\n"
      "    0  every cell met its expectation (flaky cells count as met, and are listed)\n"
      "  {:>3}  a cell failed its expectation\n"
      "  {:>3}  usage or scenario-file errors (every error is printed as file:line:column; nothing runs)\n"
      "  {:>3}  crashgate could not run a cell (a missing driver, ...), and none failed\n"
      "  {:>3}  interrupted (Ctrl-C); results.json still holds every cell that finished\n",
      kExitCellsFailed, kExitUsage, kExitHarnessError, kExitInterrupted);
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code, std::vector<std::string> command_line) {
  auto options = std::make_shared<RunOptions>();
  options->command_line = std::move(command_line);
  auto* run = app.add_subcommand("run", "Run scenario cells, judge each against its [expect], write results.json");
  run->footer(exit_codes_footer());
  add_selection_options(*run, options->select);
  run->add_option("-j,--jobs", options->jobs, "Cells at a time (default: the number of CPUs)")->check(positive_count());
  run->add_option("--seed", options->seed, fmt::format("The run's seed; each cell's is derived from it and its id (default {})", kDefaultRunSeed));
  run->add_option("--rerun-failures", options->rerun_failures,
                  "Rerun a failing cell up to N times; one that then passes is flaky (default 0)")
      ->check(CLI::NonNegativeNumber);
  run->add_flag("--keep-work-dirs", options->keep_work_dirs,
                "Keep what passing cells left in their work directories (default: only their cell.json)");
  run->add_option("--build-root", options->build_root,
                  "Where drivers are: BUILD_ROOT/<build>/bin/crashgate-driver-<target> (default: $CRASHGATE_BUILD_ROOT, "
                  "else the build/ this crashgate was built in)")
      ->type_name("DIR");
  run->add_option("--out", options->out, "Write OUT/<run-id>/results.json and OUT/latest (default: BUILD_ROOT/reports)")
      ->type_name("DIR");
  run->add_option("--known-issues", options->known_issues,
                  fmt::format("Match crashes against this file (default: {} when present)", kDefaultKnownIssues))
      ->type_name("PATH");
  run->add_option("--regression", options->regression,
                  "Switch these regression switches on (ID[,ID...], `vstore regressions` lists them) in every cell "
                  "whose build has them compiled in (debug, asan, tsan; never release)")
      ->allow_extra_args(false)
      ->type_name("ID");
  run->add_flag("--check-invariants", options->check_invariants,
                "Have every cell's driver run the engine's own consistency check after each step (as a scenario's "
                "check_invariants = true does); a failed check is that step's error");
  run->callback([options, &exit_code] { exit_code = run_command(*options); });
}

}  // namespace crashgate
