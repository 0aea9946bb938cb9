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

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/interrupt.h"
#include "cli/run_progress.h"
#include "crashgate/builds.h"
#include "crashgate/cli.h"
#include "crashgate/crash_check.h"
#include "crashgate/driver_location.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/limits.h"
#include "crashgate/report_writers.h"
#include "crashgate/results_merge.h"
#include "crashgate/run_directory.h"
#include "crashgate/run_matrix.h"
#include "crashgate/run_regression.h"
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

// The state's files and what recovery must find, as one text: two states
// that leave the same files and promise the same records check the same thing.
std::string state_fingerprint(const std::string& dir, const CrashExpectation& e) {
  std::string text = expectation_to_json(e).dump();
  std::error_code ec;
  std::set<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    paths.insert(it->path().string());
  for (const auto& p : paths) {
    text += "\n" + p.substr(dir.size()) + (fs::is_directory(p, ec) ? "/" : "");
    if (fs::is_regular_file(p, ec)) {
      std::ifstream in(p, std::ios::binary);
      text += "\n" + std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  return std::to_string(std::hash<std::string>{}(text)) + ":" + std::to_string(text.size());
}

struct StateInfo {
  std::size_t recorded = 0;  // which recorded cell
  CrashState state;
  std::string site;          // the crash point's call site (module+offset)
  std::string call;          // the operation it drops, tears or loses first: "#12 pwrite64 store/vectors-0.bin"
};

struct Recorded {
  Cell cell;
  std::string recording;
  std::uint64_t calls = 0, events = 0, points = 0, states = 0, unique = 0;
  double seconds = 0;
  std::string error;  // why its states were not checked
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
  std::vector<Recorded> recorded;
  std::vector<StateInfo> infos;  // one a checked state, as results.cells
  RunResults results;
  results.run_id = run_dir->id;
  results.run_dir = run_dir->path;
  results.seed = o.seed;
  results.command_line = {"crashgate", "crash-check", o.scenario};
  results.build_root = build_root;
  results.jobs = o.jobs ? o.jobs : default_jobs();
  results.started_at = utc_now();
  double check_seconds = 0;
  std::size_t batches = 0;
  // The states are written out and checked a batch at a time, and a state that
  // recovered is deleted at once: a store of a few MiB has thousands of states.
  // A failed one stays (its repro imports it).
  std::vector<PlannedCell> batch;
  constexpr std::size_t kBatch = 200;
  // Failed states kept on disk (for repro) a vulnerability: a bad rule can fail thousands of states.
  constexpr std::size_t kKeptFailures = 5;
  std::map<std::pair<std::string, std::string>, std::size_t> kept_failures;
  auto run_batch = [&] {
    if (batch.empty() || cancellation.cancelled()) return;
    RunPlan plan;
    plan.cells = std::move(batch);
    batch.clear();
    plan.build_root = build_root;
    plan.run_dir = fmt::format("{}/batches/{}", run_dir->path, batches++);
    plan.jobs = results.jobs;
    plan.repro_program = "crashgate";
    plan.repro_run_dir = display_path(run_dir->path);
    bool live = is_terminal(stdout);
    RunProgress progress(stdout, live, live ? terminal_width(stdout) : 80, plan.cells.size());
    auto checking = std::chrono::steady_clock::now();
    std::vector<CellResult> done = run_matrix(plan, RunContext{&cancellation, known ? &*known : nullptr},
                                              [&](std::size_t, const CellResult& cell, const Attempt& attempt) {
                                                progress.attempt_done(cell, attempt);
                                              });
    progress.finish();
    check_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - checking).count();
    for (CellResult& c : done) {
      const StateInfo& info = infos[results.cells.size()];
      bool keep = c.verdict != Verdict::pass && kept_failures[{info.site, info.state.kind}]++ < kKeptFailures;
      if (!keep && !c.cell.steps.empty()) {
        std::error_code ec;
        fs::remove_all(fs::path(c.cell.steps.front().args.value("from", "")).parent_path(), ec);
      }
      results.cells.push_back(std::move(c));
    }
  };
  for (std::size_t i = 0; i < cells.size() && !cancellation.cancelled(); ++i) {
    Recorded r;
    r.cell = cells[i];
    r.recording = fmt::format("{}/recorded/{}/recording", run_dir->path, i);
    std::string driver = driver_path(build_root, cells[i].build, cells[i].target);
    if (auto missing = missing_driver_message(driver, cells[i].build, cells[i].target)) {
      r.error = *missing;
      std::cerr << fmt::format("crashgate crash-check: {}: {}\n", cells[i].id, r.error);
      recorded.push_back(std::move(r));
      continue;
    }
    std::string work = fmt::format("{}/recorded/{}/work", run_dir->path, i);
    auto spec = attempt_spec(cells[i], driver, work);
    if (!spec) {
      r.error = spec.error();
      std::cerr << fmt::format("crashgate crash-check: {}: {}\n", cells[i].id, r.error);
      recorded.push_back(std::move(r));
      continue;
    }
    // The store's directory is the application's to make durable before the engine
    // runs: made here, so its own entry is in the initial state, not a pending mkdir.
    std::error_code ec;
    fs::create_directories(work + "/store", ec);
    if (ec) {
      r.error = fmt::format("{}/store: {}", work, ec.message());
      recorded.push_back(std::move(r));
      continue;
    }
    RecordOptions ro;
    ro.argv = spec->argv;
    ro.dir = work;
    ro.out = r.recording;
    ro.wall = cells[i].limits.wall * 20;  // recording costs a few times the run; a hang still ends
    ro.cancel = &cancellation;
    ro.events_fd = kDriverEventFd;
    ro.env = spec->env;
    ro.env.emplace_back("CRASHGATE_MODEL_EVENTS", "1");
    if (cells[i].limits.worker_stack) ro.env.emplace_back("CRASHGATE_WORKER_STACK", std::to_string(*cells[i].limits.worker_stack));
    std::cout << fmt::format("recording {} ...\n", cells[i].id);
    std::cout.flush();
    Checked<RecordSummary> s = record_fs_calls(ro);
    if (!s) {
      r.error = "recording: " + s.error();
    } else if (s->cancelled) {
      r.error = "interrupted while recording";
    } else if (!s->exit_code || *s->exit_code != 0) {
      r.error = fmt::format("the recorded run {} (`crashgate run` this cell: its steps must pass before its crash states mean anything)",
                            s->timed_out ? "ran out of time" : s->signal ? fmt::format("was killed by signal {}", *s->signal)
                                                                          : fmt::format("exited {}", s->exit_code.value_or(-1)));
    } else {
      r.calls = s->calls;
      r.seconds = s->seconds;
    }
    Checked<Recording> rec = r.error.empty() ? load_recording(r.recording) : Checked<Recording>(failure(""));
    Checked<std::vector<ModelEvent>> events = rec ? model_events(*rec) : Checked<std::vector<ModelEvent>>(failure(""));
    if (r.error.empty() && !rec) r.error = rec.error();
    if (r.error.empty() && !events) r.error = events.error();
    if (r.error.empty() && events->empty())
      r.error = fmt::format("the driver wrote no records events: {} reports no record model (kit::Driver::record_model)", cells[i].target);
    if (!r.error.empty()) {
      std::cerr << fmt::format("crashgate crash-check: {}: {}\n", cells[i].id, r.error);
      recorded.push_back(std::move(r));
      continue;
    }
    r.events = events->size();
    std::pair<std::uint64_t, std::uint64_t> phase{1, rec->calls.size()};
    if (scenario.crash_states && scenario.crash_states->steps) {
      auto p = phase_calls(*rec, scenario.crash_states->steps->first, scenario.crash_states->steps->second);
      if (!p) {
        r.error = p.error();
        std::cerr << fmt::format("crashgate crash-check: {}: {}\n", cells[i].id, r.error);
        recorded.push_back(std::move(r));
        continue;
      }
      phase = *p;
    }
    std::vector<std::uint64_t> points = sample_crash_points(phase.first, phase.second, sample, cells[i].seed);
    r.points = points.size();
    std::vector<CrashState> states = crash_states(*rec, {*model, points});
    r.states = states.size();
    std::set<std::string> seen;
    for (std::size_t k = 0; k < states.size() && !cancellation.cancelled(); ++k) {
      const CrashState& st = states[k];
      std::string dir = fmt::format("{}/states/{}-{}", run_dir->path, i, k);
      CrashExpectation e = expectation_at(*events, st.point);
      if (CheckedDone d = materialize_crash_state(*rec, st, dir); !d) {
        std::cerr << fmt::format("crashgate crash-check: {}: state {}: {}\n", cells[i].id, k, d.error());
        return kExitHarnessError;
      }
      if (!seen.insert(state_fingerprint(dir, e)).second) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        continue;
      }
      ++r.unique;
      // The operation the state is about: the one dropped or torn, the first one lost; for `all`, the crash point's.
      std::uint64_t about = st.point;
      if (st.torn) {
        about = *st.torn;
      } else {
        for (auto p : st.pending)
          if (std::find(st.kept.begin(), st.kept.end(), p) == st.kept.end()) {
            about = p;
            break;
          }
      }
      const FsCall& at = rec->calls[about - 1];
      std::string shown = at.path.rfind(work + "/", 0) == 0 ? at.path.substr(work.size() + 1) : at.path;
      StateInfo info{i, st, call_site(at), fmt::format("#{} {} {}", about, at.call, shown)};
      PlannedCell p;
      p.cell = recovery_cell(cells[i], k, e, dir);
      p.scenario_file = o.scenario;
      p.summary = fmt::format("{} ({}); {}", st.describe(), info.call, e.describe());
      p.origin = "crash-check";
      batch.push_back(std::move(p));
      infos.push_back(std::move(info));
      if (batch.size() == kBatch) run_batch();
    }
    run_batch();
    std::cout << fmt::format("  {} calls recorded in {:.2f} s, {} records events; {} states at {} crash points, {} distinct\n", r.calls,
                             r.seconds, r.events, r.states, r.points, r.unique);
    recorded.push_back(std::move(r));
  }

  results.interrupted = cancellation.cancelled();
  results.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  results.exit_code = run_exit_code(results);
  for (const auto& r : recorded)
    if (!r.error.empty() && results.exit_code == 0) results.exit_code = kExitHarnessError;

  // Vulnerabilities: failed states, one a (call site, state kind).
  OfflineSymbolizer symbols;
  struct Group {
    std::vector<std::size_t> states;
    std::string where, kind;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  std::size_t failed = 0;
  for (std::size_t i = 0; i < results.cells.size(); ++i) {
    const CellResult& c = results.cells[i];
    if (c.verdict == Verdict::pass || c.verdict == Verdict::not_run) continue;
    ++failed;
    Group& g = groups[{infos[i].site, infos[i].state.kind}];
    g.states.push_back(i);
    g.kind = infos[i].state.kind;
    g.where = infos[i].site.empty() ? "(no stack)" : symbols.describe(infos[i].site, false);
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
                           "vulnerabilit{} by (call site, state kind)\n",
                           checked, check_seconds, check_seconds > 0 ? checked * 60.0 / check_seconds : 0.0,
                           failed, groups.size(), groups.size() == 1 ? "y" : "ies");
  for (const auto& [key, g] : groups) {
    const CellResult& first = results.cells[g.states.front()];
    const Outcome& out = first.attempts.empty() ? Outcome{} : first.attempts.front().outcome;
    std::string outcome = first.attempts.empty() ? "not run" : outcome_text(out);
    std::cout << fmt::format("  {} state{} at {}: {}\n    first: {} -> {}\n    {}\n", g.states.size(), g.states.size() == 1 ? "" : "s",
                             g.where, g.kind, first.summary, outcome, first.repro);
    nlohmann::json ids = nlohmann::json::array();
    for (auto s : g.states) ids.push_back(results.cells[s].cell.id);
    vulns.push_back({{"call_site", key.first}, {"source", g.where}, {"kind", g.kind}, {"states", ids}, {"first", first.summary},
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
      "vulnerability, grouped by the call site of the operation the state drops, tears or loses first and the kind of state.\n"
      "Writes OUT/<run id>/results.json and the reports (as `crashgate run` does; `crashgate repro ID@state-N --run DIR` reruns one "
      "state), crash-check.json (per recorded cell: calls, states, distinct states; the vulnerabilities), recorded/ and states/ "
      "(the states are written and checked 200 at a time; one that recovered is deleted, and 5 failed ones a vulnerability are kept).\n"
      "Exit status: 0 every state recovered; 1 a state failed; 2 usage (a scenario that does not parse, an unknown model, no cell "
      "matches); 3 a cell could not be recorded (its run failed, its driver reports no model) and none failed; 130 interrupted.\n");
  cmd->callback([o, &exit_code] { exit_code = run_crash_check(*o); });
}

}  // namespace crashgate
