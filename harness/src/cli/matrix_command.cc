// `crashgate matrix`: the catalog against the hardened engine and against each
// regression switch; matrix.json, matrix.md, and reports/detection-matrix.md
// and .json with --update (detection_matrix.h).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>

#include "cli/count_check.h"
#include "cli/interrupt.h"
#include "cli/run_progress.h"
#include "cli/selection_options.h"
#include "crashgate/change_selection.h"
#include "crashgate/cli.h"
#include "crashgate/crash_check_run.h"
#include "crashgate/detection_matrix.h"
#include "crashgate/driver_listing.h"
#include "crashgate/driver_location.h"
#include "crashgate/run_directory.h"
#include "crashgate/run_matrix.h"

namespace crashgate {
namespace {

constexpr const char* kCheckedInMatrix = "reports/detection-matrix.md";
// Beside it, the same matrix as matrix.json: which scenarios caught each switch, for --changed.
constexpr const char* kCheckedInMatrixJson = "reports/detection-matrix.json";

// `path` with its extension replaced by .json ("x/detection-matrix.md" -> "x/detection-matrix.json").
std::string json_beside(const std::string& path) {
  return std::filesystem::path(path).replace_extension(".json").string();
}

struct MatrixCommandOptions {
  SelectionOptions select;
  MatrixOptions matrix;
  std::vector<std::string> regressions;  // empty: every switch
  std::vector<std::string> hardened_from;  // runs whose hardened cells are judged instead of run again
  unsigned jobs = 0;
  std::uint64_t seed = 1;
  std::string build_root;
  std::string out;
  std::string update;   // path to rewrite, when --update
  bool update_flag = false;
  bool keep_work_dirs = false;
  bool plan_only = false;  // --plan: print the cells, run none
  std::vector<std::string> command_line;
};

// A crash_states matrix cell: the cell recorded with its switch on, recovery
// checked from the states at `crash_points` sampled crash points, summed up as
// one result: failed with the first failed state's outcome (the kind the judge
// compares with the switch's), or passed when every state recovered.
CellResult check_crash_states_cell(const PlannedCell& planned, const MatrixOptions& options, const std::string& build_root,
                                   const std::string& dir, unsigned jobs, const Cancellation& cancellation) {
  CellResult result;
  result.cell = planned.cell;
  result.scenario_file = planned.scenario_file;
  result.summary = planned.summary;
  result.origin = planned.origin;
  result.repro = fmt::format("crashgate crash-check {} --cell '{}' --build {} --regression {} --sample {}", display_path(planned.scenario_file),
                             planned.cell.id.substr(0, planned.cell.id.rfind('+')), planned.cell.build, planned.cell.regression,
                             options.crash_points);
  CrashCheckSetup setup;
  setup.cells = {planned.cell};
  setup.cells.front().id = planned.cell.id.substr(0, planned.cell.id.rfind("@crash-states"));
  setup.model = parse_persistence_model(planned.cell.crash_states->model).value_or(PersistenceModel::posix);
  setup.sample = options.crash_points;
  setup.steps = planned.cell.crash_states->steps;
  setup.scenario_file = planned.scenario_file;
  setup.build_root = build_root;
  setup.run_dir = dir;
  setup.repro_run_dir = display_path(dir);
  setup.jobs = jobs;
  setup.context = RunContext{&cancellation, nullptr};
  std::string problem;
  setup.problem = [&](const std::string& line) { problem = line; };
  auto started = std::chrono::steady_clock::now();
  CrashCheckRun run = check_crash_states(setup);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (!run.fatal.empty() || !problem.empty()) {
    // The plain injected cell beside it says how a run that cannot be recorded ends.
    result.verdict = Verdict::not_run;
    result.summary = "crash states not checked: " + (run.fatal.empty() ? problem : run.fatal);
    return result;
  }
  std::size_t failed = 0, checked = 0;
  const CellResult* first = nullptr;
  std::size_t first_state = 0;
  for (std::size_t i = 0; i < run.results.size(); ++i) {
    const CellResult& c = run.results[i];
    if (c.verdict == Verdict::not_run) continue;
    ++checked;
    if (c.verdict != Verdict::pass && !c.attempts.empty() && ++failed == 1) {
      first = &c;
      first_state = i;
    }
  }
  if (checked == 0) {
    result.verdict = Verdict::not_run;
    return result;
  }
  Attempt a;
  if (first) {
    a = first->attempts.front();
    a.outcome.notes.push_back(fmt::format("{} of {} crash states fail recovery; first: {} ({})", failed, checked,
                                          run.states[first_state].state.describe(), first->repro));
    result.summary = fmt::format("{} of {} crash states fail recovery", failed, checked);
  } else {
    a.verdict = Verdict::pass;
    a.outcome.kind = OutcomeKind::ok;
    a.outcome.detail = fmt::format("all {} crash states recovered", checked);
    result.summary = a.outcome.detail;
  }
  a.outcome.duration_ms = ms;
  a.work_dir = dir;
  result.verdict = a.verdict;
  result.attempts.push_back(std::move(a));
  return result;
}

void keep_only_cell_json(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename() != "cell.json") std::filesystem::remove_all(it->path(), ec);
}

// One target's switches, from its plain build's driver; nullopt after an error
// said on stderr. A driver with no regressions table has none.
std::optional<std::vector<RegressionSwitch>> target_switches(const MatrixCommandOptions& o, const std::string& build_root,
                                                             const std::string& target, std::string& left_out) {
  std::string driver = driver_path(build_root, o.matrix.plain_build, target);
  if (auto missing = missing_driver_message(driver, o.matrix.plain_build, target)) {
    left_out = fmt::format("no {} driver to ask for its regression switches ({})", o.matrix.plain_build, *missing);
    return std::vector<RegressionSwitch>{};
  }
  DriverListing listing = list_from_driver(driver, "regressions", "id");
  if (listing.not_listed) {
    left_out = "its driver has no regression switches";
    return std::vector<RegressionSwitch>{};
  }
  if (!listing.error.empty()) {
    std::cerr << "crashgate matrix: " << listing.error << "\n";
    return std::nullopt;
  }
  std::vector<RegressionSwitch> out;
  for (const auto& row : listing.rows) {
    RegressionSwitch r{row.value("id", ""), row.value("field_report", ""), row.value("what", ""), row.value("shows_as", ""), target};
    if (!row.value("compiled_in", false)) {
      std::cerr << fmt::format("crashgate matrix: build '{}' of {} has no regression switches compiled in; name one that has "
                               "(--plain-build debug)\n", o.matrix.plain_build, target);
      return std::nullopt;
    }
    if (std::string problem = shows_as_problem(r.shows_as); !problem.empty()) {
      std::cerr << fmt::format("crashgate matrix: regression '{}': shows_as '{}': {}\n", r.id, r.shows_as, problem);
      return std::nullopt;
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) left_out = "its driver lists no regression switches";
  return out;
}

// The switches of every target in the selection that has any (--regression
// narrows them), and the cells of targets without: they are left out, each
// target with a line saying why. nullopt after an error said on stderr.
std::optional<std::vector<RegressionSwitch>> load_switches(const MatrixCommandOptions& o, const std::string& build_root,
                                                           std::vector<PlannedCell>& cells) {
  std::vector<std::string> targets;
  for (const auto& p : cells)
    if (std::find(targets.begin(), targets.end(), p.cell.target) == targets.end()) targets.push_back(p.cell.target);
  std::vector<RegressionSwitch> all;
  for (const auto& target : targets) {
    std::string left_out;
    auto switches = target_switches(o, build_root, target, left_out);
    if (!switches) return std::nullopt;
    if (!left_out.empty()) {
      auto n = std::erase_if(cells, [&](const PlannedCell& p) { return p.cell.target == target; });
      std::cerr << fmt::format("crashgate matrix: {}: {}; its {} cells are left to the gate\n", target, left_out, n);
      continue;
    }
    all.insert(all.end(), switches->begin(), switches->end());
  }
  if (all.empty()) {
    std::cerr << "crashgate matrix: no target in the selection has regression switches (build the plain build's drivers: "
                 "ci/build " << o.matrix.plain_build << ")\n";
    return std::nullopt;
  }
  std::set<std::string> wanted(o.regressions.begin(), o.regressions.end());
  for (const auto& id : wanted)
    if (std::none_of(all.begin(), all.end(), [&](const RegressionSwitch& r) { return r.id == id; })) {
      std::string known;
      for (const auto& r : all) known += (known.empty() ? "" : ", ") + r.id;
      std::cerr << fmt::format("crashgate matrix: --regression {}: no such switch (known: {})\n", id, known);
      return std::nullopt;
    }
  if (!wanted.empty()) std::erase_if(all, [&](const RegressionSwitch& r) { return !wanted.count(r.id); });
  return all;
}

// Which cells can reach each switch's code: those whose footprint ran a
// function holding one of its `Regression::<id>` lines. A switch whose lines
// are not all in recorded functions, and a cell with no footprint, reach
// anything. Nothing (no narrowing) without usable footprints; why is said.
std::optional<SwitchReach> reach_by_footprints(const MatrixCommandOptions& o, const RepositoryChange& change,
                                               const std::vector<RegressionSwitch>& switches) {
  namespace fs = std::filesystem;
  std::string path = o.select.footprints.empty() ? change.root + "/" + std::string(kDefaultFootprints) : o.select.footprints;
  if (!fs::exists(path)) {
    std::cerr << fmt::format("crashgate matrix: note: no {}: each switch is injected into every cell\n", path);
    return std::nullopt;
  }
  auto loaded = load_footprints(path);
  if (!loaded) {
    std::cerr << fmt::format("crashgate matrix: note: {}; each switch is injected into every cell\n", loaded.error());
    return std::nullopt;
  }
  if (loaded->recorded_at.ends_with(kFootprintsDirty) || !has_commit(change.root, loaded->recorded_at)) {
    std::cerr << fmt::format("crashgate matrix: note: the footprints' commit {} is not in this clone: each switch is "
                             "injected into every cell\n", loaded->recorded_at.substr(0, 10));
    return std::nullopt;
  }
  auto footprints = std::make_shared<Footprints>(std::move(*loaded));
  auto functions = std::make_shared<std::map<std::string, std::vector<std::uint32_t>>>();  // switch id -> its functions
  std::map<std::string, std::string> texts;  // repository-relative engine source -> text
  std::map<std::string, std::vector<DiffHunk>> since;
  std::set<std::string> scanned;  // targets whose sources are in `texts`
  for (const RegressionSwitch& r : switches) {
    if (scanned.insert(r.target).second) {
      std::error_code ec;
      for (fs::recursive_directory_iterator it(change.root + "/targets/" + r.target, ec), end; !ec && it != end;
           it.increment(ec)) {
        auto ext = it->path().extension();
        if (!it->is_regular_file(ec) || (ext != ".cc" && ext != ".h" && ext != ".hpp")) continue;
        std::ifstream in(it->path());
        texts[it->path().lexically_relative(change.root).generic_string()] =
            std::string(std::istreambuf_iterator<char>(in), {});
      }
    }
    std::vector<std::pair<std::string, std::uint32_t>> hits;
    for (const auto& [file, text] : texts) {
      if (!file.starts_with("targets/" + r.target + "/")) continue;
      for (auto line : regression_lines(text, r.id)) hits.emplace_back(file, line);
    }
    bool unknown = false;
    for (const auto& [file, line] : hits)
      if (!since.contains(file)) {
        auto hunks = diff_hunks(change.root, footprints->recorded_at, "", file);
        if (!hunks) {
          unknown = true;
          break;
        }
        since[file] = std::move(*hunks);
      }
    auto held = unknown ? std::nullopt : switch_functions(*footprints, hits, since);
    if (!held) {
      std::cout << fmt::format("  {:<26} injected into every cell: its code is not all in recorded functions\n", r.id);
      continue;
    }
    std::string names;
    for (auto i : *held) {
      const auto& f = footprints->functions[i];
      names += fmt::format("{}{} ({}:{})", names.empty() ? "" : ", ", f.name, footprints->files[f.file], f.first);
    }
    std::cout << fmt::format("  {:<26} injected into the cells that ran {}\n", r.id, names);
    (*functions)[r.id] = std::move(*held);
  }
  return [footprints, functions](const PlannedCell& p, const RegressionSwitch& r) {
    auto held = functions->find(r.id);
    if (held == functions->end()) return true;
    const auto* ran = footprints->functions_of(footprint_key(p.cell));
    if (!ran) return true;  // no footprint: it may reach anything
    return std::find_first_of(ran->begin(), ran->end(), held->second.begin(), held->second.end()) != ran->end();
  };
}

// --changed: keeps the switches the change can make escape (select_switches_for_change), and
// says which cells can reach each; false after an error said.
bool keep_changed_switches(const MatrixCommandOptions& o, const std::vector<PlannedCell>& cells,
                           std::vector<RegressionSwitch>& switches, std::optional<SwitchReach>& reach) {
  auto change = change_since(o.select.changed, selection_repository(o.select));
  if (!change) {
    std::cerr << fmt::format("crashgate matrix: --changed {}: {}\n", o.select.changed, change.error());
    return false;
  }
  std::set<std::string> with_switches;  // targets
  for (const auto& r : switches) with_switches.insert(r.target);
  std::set<std::string> scenario_files;  // repository-relative, of cells whose target has switches
  for (const auto& p : cells)
    if (with_switches.count(p.cell.target)) scenario_files.insert(change->relative(p.scenario_file));
  std::vector<RegressionRef> refs;
  for (const auto& r : switches) refs.push_back({r.id, r.target});
  auto read = [&](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(change->root + "/" + path);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // The last full matrix, checked in: a scenario edit then tries only the switches its scenarios caught.
  std::optional<SwitchCatchers> catchers;
  std::string checked_in = change->root + "/" + kCheckedInMatrixJson;
  if (std::filesystem::exists(checked_in)) {
    auto last = load_detection_matrix(checked_in);
    if (!last) {
      std::cerr << fmt::format("crashgate matrix: --changed: {}\n", last.error());
      return false;
    }
    SwitchCatchers& c = catchers.emplace();
    for (const auto& r : last->regressions) {
      auto& names = c.by_switch[r.info.id];
      for (const auto& k : r.caught_by) names.insert(k.scenario);
    }
    c.source = fmt::format("{} (run {})", kCheckedInMatrixJson, last->run_id);
    c.names_in = [&](const std::string& path) {
      std::set<std::string> names;
      if (auto now = read(path)) names = scenario_names_in(*now);
      if (auto then = file_at(change->root, change->merge_base, path)) names.merge(scenario_names_in(*then));
      return names;
    };
  } else {
    std::cerr << fmt::format("crashgate matrix: note: no {} (crashgate matrix --update writes it): a changed scenario "
                             "file tries every switch\n", checked_in);
  }
  SwitchSelection chosen = select_switches_for_change(change->files, refs, scenario_files, read,
                                                      change->sample_seed(), true, catchers ? &*catchers : nullptr);
  std::cout << fmt::format("crashgate matrix: --changed {} (merge base {}, {} changed files): {} of {} switches\n",
                           o.select.changed, change->merge_base.substr(0, 10), change->files.size(), chosen.ids.size(),
                           switches.size());
  for (std::size_t k = 0; k < chosen.ids.size(); ++k) std::cout << fmt::format("  {:<26} {}\n", chosen.ids[k], chosen.why[k]);
  std::set<std::string> kept(chosen.ids.begin(), chosen.ids.end());
  std::erase_if(switches, [&](const RegressionSwitch& r) { return !kept.count(r.id); });
  reach = reach_by_footprints(o, *change, switches);
  return true;
}

int matrix_command(const MatrixCommandOptions& o) {
  std::string build_root = std::filesystem::absolute(o.build_root.empty() ? default_build_root() : o.build_root).lexically_normal().string();
  // --changed picks switches, not cells: a switch is tried against the whole catalog, or its escape means nothing.
  bool changed = !o.select.changed.empty() && !o.select.all;
  if (changed && o.update_flag) {
    std::cerr << fmt::format("crashgate matrix: --update rewrites {} from a whole matrix; a --changed matrix tries only "
                             "some switches (drop --changed, or add --all)\n", kCheckedInMatrix);
    return kExitUsage;
  }
  SelectionOptions whole = o.select;
  whole.changed.clear();
  auto cells = load_selected_cells(whole, o.seed, "matrix", build_root);
  if (!cells) return kExitUsage;
  if (cells->empty()) {
    std::cerr << "crashgate matrix: no cells match the selection\n";
    return kExitUsage;
  }
  auto switches = load_switches(o, build_root, *cells);
  if (!switches) return kExitUsage;
  // A scenario's switch lists name switches of its target: a typo would quietly drop a check.
  {
    std::set<std::string> named, unknown;
    std::set<std::string> targets_asked;
    for (const RegressionSwitch& r : *switches) {
      named.insert(r.target + "/" + r.id);
      targets_asked.insert(r.target);
    }
    for (const PlannedCell& p : *cells) {
      if (!targets_asked.count(p.cell.target) || !o.regressions.empty()) continue;  // its driver was not asked, or --regression narrowed
      std::vector<std::string> listed = p.cell.matrix_switches;
      if (p.cell.crash_states) listed.insert(listed.end(), p.cell.crash_states->matrix_switches.begin(), p.cell.crash_states->matrix_switches.end());
      for (const std::string& id : listed)
        if (!named.count(p.cell.target + "/" + id) && unknown.insert(p.scenario_file + ": " + id).second)
          std::cerr << fmt::format("crashgate matrix: {}: matrix_switches names '{}', which is no regression switch of {} "
                                   "(its driver's --list regressions)\n", display_path(p.scenario_file), id, p.cell.target);
    }
    if (!unknown.empty()) return kExitUsage;
  }
  std::optional<SwitchReach> reach;  // --changed: a switch only where its code runs
  if (changed && !keep_changed_switches(o, *cells, *switches, reach)) return kExitUsage;

  // The runs' cells together; matrix.json is also written into the first run.
  std::optional<RunResults> earlier;
  for (const std::string& from : o.hardened_from) {
    auto loaded = load_results(from);
    if (!loaded) {
      std::cerr << "crashgate matrix: --hardened-from: " << loaded.error() << "\n";
      return kExitUsage;
    }
    if (!earlier)
      earlier = std::move(*loaded);
    else
      earlier->cells.insert(earlier->cells.end(), loaded->cells.begin(), loaded->cells.end());
  }
  std::string earlier_name = o.hardened_from.size() == 1 ? o.hardened_from.front()
                                                          : fmt::format("{} runs", o.hardened_from.size());
  std::vector<MatrixCell> plan = plan_detection_matrix(*cells, *switches, o.matrix, reach ? *reach : SwitchReach{});
  // With --hardened-from, the hardened cells those runs hold are judged from
  // them instead of run again; the ones they lack run here.
  std::vector<CellResult> reused;
  if (earlier) {
    std::set<std::string> wanted, found;
    for (const MatrixCell& m : plan)
      if (m.role == MatrixRole::hardened) wanted.insert(m.planned.cell.id);
    for (const CellResult& c : earlier->cells)
      if (wanted.count(c.cell.id) && found.insert(c.cell.id).second) reused.push_back(c);
    // A change-aware run judged the hardened cells the change reaches; the rest are not the matrix's to run.
    if (found.size() != wanted.size())
      std::cerr << fmt::format("crashgate matrix: note: {} hold {} of the {} hardened cells; the other {} {}\n",
                               earlier_name, found.size(), wanted.size(), wanted.size() - found.size(),
                               changed ? "are left out (--changed: the change does not reach them)" : "run here");
    std::erase_if(plan, [&](const MatrixCell& m) {
      return m.role == MatrixRole::hardened && (changed || found.count(m.planned.cell.id));
    });
  }

  if (o.plan_only) {
    for (const MatrixCell& m : plan)
      std::cout << fmt::format("{} {}\n", m.planned.cell.id, to_string(m.role));
    std::cerr << fmt::format("crashgate matrix: {} cells planned (--plan: none run)\n", plan.size());
    return 0;
  }
  std::string reports = std::filesystem::absolute(o.out.empty() ? build_root + "/reports" : o.out).lexically_normal().string();
  auto run_dir = create_run_directory(reports);
  if (!run_dir) {
    std::cerr << "crashgate matrix: " << run_dir.error() << "\n";
    return kExitHarnessError;
  }
  RunPlan run_plan;
  std::vector<MatrixRole> roles;
  std::vector<PlannedCell> crash_checked;  // checked after the others, one crash-check each
  for (MatrixCell& m : plan) {
    if (m.role == MatrixRole::crash_states) {
      crash_checked.push_back(m.planned);
      continue;
    }
    run_plan.cells.push_back(m.planned);
    roles.push_back(m.role);
  }
  run_plan.build_root = build_root;
  run_plan.run_dir = run_dir->path;
  run_plan.jobs = o.jobs ? o.jobs : default_jobs();
  run_plan.keep_passing_work_dirs = o.keep_work_dirs;
  run_plan.repro_program = "crashgate";
  run_plan.repro_run_dir = display_path(run_dir->path);

  size_t injected = std::count(roles.begin(), roles.end(), MatrixRole::injected);
  std::cout << fmt::format("crashgate matrix {}: {} switches; {} cells ({} hardened{}, {} injected, {} replays, {} checked at {} crash "
                           "points), seed {}, -j {}; writing {}\n",
                           run_dir->id, switches->size(), run_plan.cells.size() + reused.size() + crash_checked.size(),
                           std::count(roles.begin(), roles.end(), MatrixRole::hardened) + reused.size(),
                           earlier ? fmt::format(", {} judged from {}", reused.size(), earlier_name) : "", injected,
                           std::count(roles.begin(), roles.end(), MatrixRole::replay), crash_checked.size(),
                           o.matrix.crash_points ? std::to_string(o.matrix.crash_points) : "every", o.seed, run_plan.jobs,
                           display_path(run_dir->path));
  std::cout.flush();
  bool live = is_terminal(stdout);
  RunProgress progress(stdout, live, live ? terminal_width(stdout) : 80, run_plan.cells.size());
  Cancellation cancellation;
  RunResults results;
  auto started = std::chrono::steady_clock::now();
  {
    InterruptGuard guard(cancellation);
    RunContext context{&cancellation, nullptr};
    results.cells = run_matrix(run_plan, context, [&](std::size_t i, const CellResult& cell, const Attempt& attempt) {
      // A switch's failures are the point, not something to study: keep their cell.json only.
      if (roles[i] != MatrixRole::hardened && !o.keep_work_dirs && !attempt.work_dir.empty()) keep_only_cell_json(attempt.work_dir);
      progress.attempt_done(cell, attempt);
    });
    progress.finish();
    // The crash-states cells: each a crash-check of its own, in RUN/crash-states/<n>.
    for (std::size_t i = 0; i < crash_checked.size() && !cancellation.cancelled(); ++i) {
      CellResult c = check_crash_states_cell(crash_checked[i], o.matrix, build_root, fmt::format("{}/crash-states/{}", run_dir->path, i),
                                             run_plan.jobs, cancellation);
      std::cout << fmt::format("{:<13} {}  {}\n", to_string(c.verdict), c.cell.id, c.summary);
      results.cells.push_back(std::move(c));
      roles.push_back(MatrixRole::crash_states);
    }
  }
  results.run_id = run_dir->id;
  results.run_dir = run_dir->path;
  results.seed = o.seed;
  results.command_line = o.command_line;
  results.build_root = build_root;
  results.jobs = run_plan.jobs;
  results.interrupted = cancellation.cancelled();
  results.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (!reused.empty()) {
    results.cells.insert(results.cells.begin(), reused.begin(), reused.end());
    roles.insert(roles.begin(), reused.size(), MatrixRole::hardened);
  }

  DetectionMatrix matrix = judge_detection_matrix(results, roles, *switches, o.matrix);
  if (results.interrupted) {
    matrix.passed = false;
    matrix.problems.insert(matrix.problems.begin(), "interrupted: the matrix is incomplete");
  }
  results.exit_code = results.interrupted ? kExitInterrupted : matrix.passed ? 0 : kExitCellsFailed;
  std::string markdown = matrix_markdown(matrix);
  std::string json_text = to_json(matrix).dump(2) + "\n";
  CheckedDone written = write_results(results, run_dir->path);
  if (written) written = write_file_atomically(run_dir->path + "/" + kMatrixFile, json_text);
  if (written) written = write_file_atomically(run_dir->path + "/matrix.md", markdown);
  if (written && earlier) written = write_file_atomically(std::filesystem::path(earlier->run_dir).string() + "/" + kMatrixFile, json_text);
  if (!written) {
    std::cerr << "crashgate matrix: " << written.error() << "\n";
    return kExitHarnessError;
  }

  for (const MatrixRegression& r : matrix.regressions) {
    std::string best;
    if (!r.caught_by.empty()) {
      const MatrixCatch* b = &r.caught_by[0];
      for (const MatrixCatch& c : r.caught_by)
        if (c.ms < b->ms) b = &c;
      best = fmt::format("{} {} in {:.2f} s by {}", b->kind, b->detail, b->ms / 1000.0, b->cell);
    }
    std::cout << fmt::format("  {:<26} {:<10} {:>3} of {:>3} cells  {}\n", r.info.id, to_string(r.status), r.caught_by.size(), r.cells, best);
  }
  std::cout << fmt::format("crashgate matrix: {} · {} hardened cells, {} not met · {} of {} regressions caught · {:.1f} s\n",
                           matrix.passed ? "pass" : "fail", matrix.hardened_cells, matrix.hardened_failures.size(),
                           std::count_if(matrix.regressions.begin(), matrix.regressions.end(), [](const auto& r) { return r.status == RegressionStatus::caught; }),
                           matrix.regressions.size(), results.duration_ms / 1000.0);
  for (const std::string& p : matrix.problems) std::cout << "  problem: " << p << "\n";
  std::cout << fmt::format("matrix: {}/{} and matrix.md\n", display_path(run_dir->path), kMatrixFile);
  if (o.update_flag) {
    std::string path = o.update.empty() ? kCheckedInMatrix : o.update;
    CheckedDone updated = write_file_atomically(path, markdown);
    if (updated) updated = write_file_atomically(json_beside(path), json_text);
    if (!updated) {
      std::cerr << "crashgate matrix: --update: " << updated.error() << "\n";
      return kExitHarnessError;
    }
    std::cout << "updated " << path << " and " << json_beside(path) << "\n";
  }
  return results.exit_code;
}

}  // namespace

void add_matrix_command(CLI::App& app, int& exit_code, std::vector<std::string> command_line) {
  auto o = std::make_shared<MatrixCommandOptions>();
  o->command_line = std::move(command_line);
  auto* cmd = app.add_subcommand("matrix", "Run the catalog against the hardened engine and each regression switch; "
                                           "fail unless every hardened cell is met and every switch is caught as its bug shows");
  cmd->footer(fmt::format(
      "Each switch comes from the plain build's driver (--list regressions) with how its bug shows\n"
      "(e.g. signal:SIGBUS@past-eof). Writes REPORTS/<run>/results.json, matrix.json, matrix.md.\n"
      "With --changed BASE (a PR): only the switches the change can make escape (every one after a harness,\n"
      "build or driver change; after a scenario change, those its scenarios caught in the checked-in\n"
      "{} (every one without it); for engine code, those whose Regression::<id> the changed\n"
      "file holds), plus one rotating switch; hardened cells --hardened-from lacks are left out, not run.\n"
      "Exit status:\n"
      "    0  every hardened cell met its expectation and every switch was caught the way its bug shows\n"
      "  {:>3}  a hardened cell failed, or a switch escaped or was caught only as an unrelated kind\n"
      "  {:>3}  usage or scenario-file errors, an unknown switch, a driver to list switches is not built\n"
      "  {:>3}  crashgate could not write its results\n"
      "  {:>3}  interrupted (Ctrl-C)\n",
      kCheckedInMatrixJson, kExitCellsFailed, kExitUsage, kExitHarnessError, kExitInterrupted));
  add_selection_options(*cmd, o->select);
  cmd->add_option("--regression", o->regressions, "Only these switches (comma-separated; default: every one)")
      ->delimiter(',')
      ->type_name("IDS");
  cmd->add_option("--hardened-from", o->hardened_from,
                  "Judge the hardened cells from this run (a run directory or results.json) instead of running them; "
                  "repeatable: the runs' cells together. Cells none of them holds run here. matrix.json is written "
                  "into the first run too")
      ->type_name("RUN");
  cmd->add_option("--plain-build", o->matrix.plain_build, "The build without sanitizers that has the switches (default debug)");
  cmd->add_option("--sample", o->matrix.sample,
                  "At most N injected cells per scenario, build and switch, spread over its params (default 0: all)");
  cmd->add_option("--crash-points", o->matrix.crash_points,
                  "Crash points a crash-states scenario's cell is checked at with each switch on (default 10; 0: every call)");
  cmd->add_option("-j,--jobs", o->jobs, "Cells at a time (default: the number of CPUs)")->check(positive_count());
  cmd->add_option("--seed", o->seed, "The run's seed (default 1)");
  cmd->add_option("--build-root", o->build_root, "Where drivers are (as for run)")->type_name("DIR");
  cmd->add_option("--out", o->out, "Write OUT/<run-id>/ (default: BUILD_ROOT/reports)")->type_name("DIR");
  cmd->add_flag("--keep-work-dirs", o->keep_work_dirs, "Keep every cell's work directory");
  cmd->add_flag("--plan", o->plan_only,
                "Print the cells the matrix would run (id and role: hardened, injected, replay), one a line; run none");
  cmd->add_flag("--update", o->update_flag,
                fmt::format("Rewrite {} and {} from this run (a whole matrix: --changed reads the JSON)", kCheckedInMatrix,
                            kCheckedInMatrixJson));
  cmd->add_option("--update-path", o->update,
                  "Where --update writes the Markdown (default reports/detection-matrix.md; the JSON beside it, as .json)")
      ->type_name("PATH");
  cmd->callback([o, &exit_code] { exit_code = matrix_command(*o); });
}

}  // namespace crashgate
