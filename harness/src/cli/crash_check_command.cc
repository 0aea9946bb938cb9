// `crashgate crash-check SCENARIO`: each cell of the scenario run once under
// `crashgate record` (the driver writing its record model as events), then
// recovery checked from every state a power cut may leave at its crash
// points: one recovery cell a state, run and judged as `crashgate run` runs
// cells, in a run directory of its own (crash_check.h).
#include "cli/crash_check_command.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/interrupt.h"
#include "cli/run_progress.h"
#include "crashgate/builds.h"
#include "crashgate/cli.h"
#include "crashgate/crash_check.h"
#include "crashgate/crash_check_run.h"
#include "crashgate/driver_location.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/limits.h"
#include "crashgate/report_writers.h"
#include "crashgate/results_merge.h"
#include "crashgate/run_directory.h"
#include "crashgate/run_matrix.h"
#include "crashgate/run_regression.h"
#include "crashgate/target_support.h"
#include "crashgate/triage.h"
#include "crashgate/utc_time.h"
#include "observe/stack_unwind.h"

namespace fs = std::filesystem;

namespace crashgate {
namespace {

struct CrashCheckOptions {
  std::string scenario;
  std::string cell = "*";
  std::string target;
  std::string build = "release";
  std::string model;               // "": the scenario's
  std::optional<std::uint64_t> sample;
  std::uint64_t seed = 1;
  unsigned jobs = 0;
  std::string build_root;
  std::string out;
  std::string known_issues;
  std::string regression;          // switched on in every recorded cell (debug, asan, tsan builds)
};

int run_crash_check(const CrashCheckOptions& o) {
  ScenarioParse parsed = load_scenario(o.scenario);
  if (!parsed.scenario) {
    for (const auto& e : parsed.errors) std::cerr << e.text() << "\n";
    return kExitUsage;
  }
  const Scenario& scenario = *parsed.scenario;
  std::string model_name = !o.model.empty() ? o.model : scenario.crash_states ? scenario.crash_states->model : "posix";
  std::optional<PersistenceModel> model = parse_persistence_model(model_name);
  if (!model) {
    std::cerr << fmt::format("crashgate crash-check: --model: '{}' is not a persistence model (posix, ext4-ordered)\n", model_name);
    return kExitUsage;
  }
  std::uint64_t sample = o.sample ? *o.sample : scenario.crash_states ? scenario.crash_states->sample : 0;
  std::vector<Cell> cells;
  // The scenario's cells of its first build, run with --build's drivers (crash-check of a
  // release scenario in the debug build, to switch a regression on, is the same cells).
  if (!is_build(o.build)) {
    std::cerr << fmt::format("crashgate crash-check: --build: unknown build '{}' (expected one of: {})\n", o.build, build_names());
    return kExitUsage;
  }
  for (Cell& c : expand_cells(scenario, o.seed)) {
    if (!o.target.empty() && c.target != o.target) continue;
    if (c.build != scenario.builds.front()) continue;
    std::string from = "/" + c.target + "/" + c.build, to = "/" + c.target + "/" + o.build;
    if (auto at = c.id.find(from); at != std::string::npos) c.id.replace(at, from.size(), to);
    c.build = o.build;
    if (fnmatch(o.cell.c_str(), c.id.c_str(), 0) != 0) continue;
    cells.push_back(std::move(c));
  }
  if (!o.regression.empty()) {
    if (auto why = regression_ids_error(o.regression)) {
      std::cerr << "crashgate crash-check: --regression " << *why << "\n";
      return kExitUsage;
    }
  }
  if (cells.empty()) {
    std::cerr << fmt::format("crashgate crash-check: {}: no cell{} matches '{}' (crashgate list {} shows them)\n", o.scenario,
                             o.target.empty() ? "" : " of target " + o.target, o.cell, o.scenario);
    return kExitUsage;
  }
  std::optional<KnownIssues> known;
  std::string known_path = !o.known_issues.empty() ? o.known_issues : fs::exists(kDefaultKnownIssues) ? kDefaultKnownIssues : "";
  if (!known_path.empty()) {
    auto loaded = KnownIssues::load(known_path);
    if (!loaded) {
      std::cerr << "crashgate crash-check: --known-issues: " << loaded.error() << "\n";
      return kExitUsage;
    }
    known = std::move(*loaded);
  }
  std::string build_root = fs::absolute(o.build_root.empty() ? default_build_root() : o.build_root).lexically_normal().string();
  if (!o.regression.empty()) {
    if (!build_has_regressions(build_root, o.build)) {
      std::cerr << fmt::format("crashgate crash-check: --regression {}: the {} build under {} has no regression switches compiled in "
                               "(debug, asan and tsan have them)\n", o.regression, o.build, build_root);
      return kExitUsage;
    }
    for (Cell& c : cells) add_regressions(c, o.regression);
  }
  // What `crashgate run` refuses before it runs (an op or an engine value the
  // target's driver does not list) is refused here before anything is recorded.
  {
    ScenarioCatalog one;
    one.scenarios.push_back(scenario);
    std::vector<PlannedCell> planned;
    for (const Cell& c : cells) planned.push_back({c, o.scenario, "", ""});
    TargetSupport support(build_root);
    std::vector<ScenarioError> refused = hold_cells_to_targets(one, planned, support, nullptr);
    for (const auto& error : refused) std::cerr << error.text() << "\n";
    if (!refused.empty()) {
      std::cerr << fmt::format("crashgate crash-check: {} error{} in the scenario; nothing was recorded\n", refused.size(),
                               refused.size() == 1 ? "" : "s");
      return kExitUsage;
    }
  }
  std::string reports = fs::absolute(o.out.empty() ? build_root + "/reports/crash-check" : o.out).lexically_normal().string();
  auto run_dir = create_run_directory(reports);
  if (!run_dir) {
    std::cerr << "crashgate crash-check: " << run_dir.error() << "\n";
    return kExitHarnessError;
  }
  std::cout << fmt::format("crashgate crash-check {}: {} cell{} of {}, {} model, {}; writing {}\n", run_dir->id, cells.size(),
                           cells.size() == 1 ? "" : "s", scenario.name, to_string(*model),
                           sample ? fmt::format("{} crash points a cell", sample) : "every crash point", display_path(run_dir->path));
  std::cout.flush();

  Cancellation cancellation;
  InterruptGuard guard(cancellation);
  auto started = std::chrono::steady_clock::now();
  RunResults results;
  results.run_id = run_dir->id;
  results.run_dir = run_dir->path;
  results.seed = o.seed;
  results.command_line = {"crashgate", "crash-check", o.scenario};
  results.build_root = build_root;
  results.jobs = o.jobs ? o.jobs : default_jobs();
  results.started_at = utc_now();

  CrashCheckSetup setup;
  setup.cells = cells;
  setup.model = *model;
  setup.sample = sample;
  if (scenario.crash_states) setup.steps = scenario.crash_states->steps;
  setup.scenario_file = o.scenario;
  setup.build_root = build_root;
  setup.run_dir = run_dir->path;
  setup.repro_run_dir = display_path(run_dir->path);
  setup.jobs = results.jobs;
  setup.context = RunContext{&cancellation, known ? &*known : nullptr};
  bool live = is_terminal(stdout);
  std::unique_ptr<RunProgress> progress;
  setup.batch_started = [&](std::size_t n) { progress = std::make_unique<RunProgress>(stdout, live, live ? terminal_width(stdout) : 80, n); };
  setup.attempt_done = [&](std::size_t, const CellResult& cell, const Attempt& attempt) { progress->attempt_done(cell, attempt); };
  setup.batch_finished = [&] { progress->finish(); };
  setup.note = [](const std::string& line) {
    std::cout << line << "\n";
    std::cout.flush();
  };
  setup.problem = [](const std::string& line) { std::cerr << "crashgate crash-check: " << line << "\n"; };
  CrashCheckRun run = check_crash_states(setup);
  if (!run.fatal.empty()) {
    std::cerr << "crashgate crash-check: " << run.fatal << "\n";
    return kExitHarnessError;
  }
  results.cells = std::move(run.results);
  const std::vector<CrashCheckedCell>& recorded = run.recorded;
  const std::vector<CheckedState>& infos = run.states;
  double check_seconds = run.check_seconds;

  results.interrupted = cancellation.cancelled();
  results.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  results.exit_code = run_exit_code(results);
  for (const auto& r : recorded)
    if (!r.error.empty() && results.exit_code == 0) results.exit_code = kExitHarnessError;

  // Vulnerabilities: failed states, one a (call site and its caller, state kind).
  OfflineSymbolizer symbols;
  struct Group {
    std::vector<std::size_t> states;
    std::string where, from, kind;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
  std::size_t failed = 0;
  for (std::size_t i = 0; i < results.cells.size(); ++i) {
    const CellResult& c = results.cells[i];
    if (c.verdict == Verdict::pass || c.verdict == Verdict::not_run) continue;
    ++failed;
    // Past the runtimes and a sanitizer build's interceptors, which only their names tell apart.
    auto [site, caller] = site_and_caller(infos[i].stack, [&](const std::string& f) { return symbols.describe(f, false); });
    Group& g = groups[{site, caller, infos[i].state.kind}];
    g.states.push_back(i);
    g.kind = infos[i].state.kind;
    g.where = site.empty() ? "(no stack)" : symbols.describe(site, false);
    g.from = caller.empty() ? "" : symbols.describe(caller, false);
  }
  std::size_t checked = 0;
  for (const auto& c : results.cells) checked += c.verdict != Verdict::not_run;
  if (results.interrupted)
    std::cout << fmt::format("crashgate crash-check: interrupted: {} of {} distinct states checked (the rest are not-run)\n", checked,
                             results.cells.size());
  nlohmann::json report = {{"scenario", o.scenario}, {"model", to_string(*model)}, {"sample", sample}};
  nlohmann::json rec_json = nlohmann::json::array();
  for (const auto& r : recorded)
    rec_json.push_back({{"cell", r.cell.id}, {"recording", display_path(r.recording)}, {"calls", r.calls}, {"record_seconds", r.seconds},
                        {"records_events", r.events}, {"crash_points", r.points}, {"states", r.states}, {"distinct_states", r.unique}, {"error", r.error}});
  report["recorded"] = rec_json;
  report["states_checked"] = checked;
  std::uint64_t distinct = 0;
  for (const auto& r : recorded) distinct += r.unique;
  report["distinct_states"] = distinct;
  report["interrupted"] = results.interrupted;
  report["check_seconds"] = check_seconds;
  nlohmann::json vulns = nlohmann::json::array();
  std::cout << fmt::format("crashgate crash-check: {} distinct states checked in {:.1f} s ({:.0f} a minute); {} failed recovery, {} "
                           "vulnerabilit{} by (call site and its caller, state kind)\n",
                           checked, check_seconds, check_seconds > 0 ? checked * 60.0 / check_seconds : 0.0,
                           failed, groups.size(), groups.size() == 1 ? "y" : "ies");
  for (const auto& [key, g] : groups) {
    const CellResult& first = results.cells[g.states.front()];
    const Outcome& out = first.attempts.empty() ? Outcome{} : first.attempts.front().outcome;
    std::string outcome = first.attempts.empty() ? "not run" : outcome_text(out);
    std::cout << fmt::format("  {} state{} at {}: {}\n{}    first: {} -> {}\n    {}\n", g.states.size(), g.states.size() == 1 ? "" : "s",
                             g.where, g.kind, g.from.empty() ? "" : "    called from " + g.from + "\n", first.summary, outcome,
                             first.repro);
    nlohmann::json ids = nlohmann::json::array();
    for (auto s : g.states) ids.push_back(results.cells[s].cell.id);
    vulns.push_back({{"call_site", std::get<0>(key)}, {"source", g.where}, {"caller", std::get<1>(key)}, {"called_from", g.from},
                     {"kind", g.kind}, {"states", ids}, {"first", first.summary},
                     {"outcome", outcome}, {"verdict", to_string(first.verdict)}, {"repro", first.repro}});
  }
  report["vulnerabilities"] = vulns;
  if (auto written = write_results(results, run_dir->path); !written) {
    std::cerr << "crashgate crash-check: " << written.error() << "\n";
    return kExitHarnessError;
  }
  if (auto written = write_file_atomically(run_dir->path + "/crash-check.json", report.dump(2) + "\n"); !written)
    std::cerr << "crashgate crash-check: " << written.error() << "\n";
  if (auto written = write_run_reports(run_dir->path, results, ReportOptions{}); !written)
    std::cerr << "crashgate crash-check: reports: " << written.error() << "\n";
  std::cout << fmt::format("results: {}/{} and crash-check.json\n", display_path(run_dir->path), kResultsFile);
  return results.interrupted ? kExitInterrupted : results.exit_code;
}

}  // namespace

void add_crash_check_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CrashCheckOptions>();
  auto* cmd = app.add_subcommand("crash-check", "Record a scenario's cells and check recovery from every state a power cut may leave");
  cmd->add_option("scenario", o->scenario, "The scenario file (its [crash_states] table names the model, the sample and the phase)")->required();
  cmd->add_option("--cell", o->cell, "Only cells whose id matches this glob (default: all)");
  cmd->add_option("--target", o->target, "Only this target's cells");
  cmd->add_option("--build", o->build, "The build whose drivers run the scenario's cells (default release)");
  cmd->add_option("--model", o->model, "posix or ext4-ordered (default: the scenario's [crash_states] model, else posix)");
  cmd->add_option("--sample", o->sample, "Crash points a cell, chosen by the cell's seed (default: the scenario's; 0: every call)");
  cmd->add_option("--seed", o->seed, "The run's seed, mixed into every cell's (default 1)");
  cmd->add_option("-j,--jobs", o->jobs, "Recovery cells run at once (default: the cores)");
  cmd->add_option("--build-root", o->build_root, "Where the builds are (default: $CRASHGATE_BUILD_ROOT or ./build)");
  cmd->add_option("--out", o->out, "The reports directory: the run goes into OUT/<run id> (default BUILD_ROOT/reports/crash-check)");
  cmd->add_option("--known-issues", o->known_issues, "Known issues (default reports/known-issues.toml when present)");
  cmd->add_option("--regression", o->regression,
                  "Switch these historical bugs on in the recorded cells (comma-separated; a build with the switches: debug, asan, tsan)");
  cmd->footer(
      "Each selected cell runs once under `crashgate record` with CRASHGATE_MODEL_EVENTS=1, so its driver writes its record model "
      "after every step, marked durable after the steps that sync. At each crash point the model's states (crashgate crash-states) are "
      "written out; states that leave the same files and promise the same records are checked once. Each becomes a recovery cell "
      "(ID@state-N): `import` of the state's store, then `verify` with what the crash must have kept (acknowledged), may have kept "
      "(exact when there) and must not bring back. A recovery that crashes, reports corrupt or loses an acknowledged record is a "
      "vulnerability, grouped by the call site of the operation the state drops, tears or loses first (its first frame outside the C, C++ and Python runtimes), the frame that called it, and the kind of state.\n"
      "Writes OUT/<run id>/results.json and the reports (as `crashgate run` does; `crashgate repro ID@state-N --run DIR` reruns one "
      "state), crash-check.json (per recorded cell: calls, states, distinct states; the vulnerabilities), recorded/ and states/ "
      "(the states are written and checked 200 at a time; one that recovered is deleted, and 5 failed ones a vulnerability are kept).\n"
      "Exit status: 0 every state recovered; 1 a state failed; 2 usage (a scenario that does not parse, an unknown model, no cell "
      "matches, an op or value the target's driver does not list); 3 a cell could not be recorded (its run failed, its driver reports no model) and none failed; 130 interrupted.\n");
  cmd->callback([o, &exit_code] { exit_code = run_crash_check(*o); });
}

}  // namespace crashgate
