#include "cli/selection_options.h"

#include <filesystem>
#include <iostream>
#include <map>


#include <fmt/format.h>

#include "crashgate/builds.h"
#include "crashgate/change_selection.h"
#include "crashgate/driver_location.h"
#include "crashgate/param_sources.h"

namespace crashgate {

// Each occurrence of a list option takes one word (which may hold commas), so
// `--build asan scenarios/` leaves scenarios/ to PATHS; repeating it adds more.
void add_selection_options(CLI::App& command, SelectionOptions& options) {
  command.add_option("paths", options.paths, "Scenario files, or directories searched recursively for *.toml (default: scenarios/)")
      ->type_name("PATH");
  command.add_option("--build", options.selection.builds, "Only these builds (comma-separated: release,asan,tsan)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("BUILDS");
  command.add_option("--in-builds", options.in_builds,
                     "Run every scenario in these builds instead of the ones it names (comma-separated; e.g. the "
                     "release-only engine scenarios under asan,tsan in a nightly job)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("BUILDS");
  command.add_option("--target", options.selection.targets, "Only these targets (comma-separated: vstore)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("TARGETS");
  command.add_option("--filter", options.selection.filters,
                     "Only cells whose id matches this glob (* and ?; '[' is literal); repeatable: any may match")
      ->allow_extra_args(false)
      ->type_name("GLOB");
  command.add_option("--shard", options.shard,
                     "Only shard I of N (1/4 .. 4/4): a fixed 1/N of the cells, by a hash of each id (default: "
                     "$CRASHGATE_SHARD_INDEX/$CRASHGATE_TOTAL_SHARDS, else $GTEST_SHARD_INDEX/$GTEST_TOTAL_SHARDS, "
                     "0-based; else every cell)")
      ->allow_extra_args(false)
      ->type_name("I/N");
  command.add_option("--changed", options.changed,
                     "Only the cells the change since BASE can reach (git merge-base BASE HEAD, to the working tree): "
                     "those whose footprint holds a changed file, every cell of a changed scenario file or driver, "
                     "every cell when the harness or a build file changed, and a rotating sample of the rest")
      ->allow_extra_args(false)
      ->type_name("BASE");
  command.add_option("--footprints", options.footprints,
                     fmt::format("With --changed: each cell's footprint (`crashgate footprints` records it; default: "
                                 "the repository's {} when present, else a changed engine file selects every cell "
                                 "of its engine)", kDefaultFootprints))
      ->type_name("FILE");
  command.add_option("--change-sample", options.sample,
                     "With --changed: the fraction of the cells the change does not reach that run anyway, drawn "
                     "afresh at every commit so that none goes unrun for ever (default 0.05)")
      ->check(CLI::Range(0.0, 1.0))
      ->type_name("FRACTION");
  command.add_option("--concurrency-seeds", options.concurrency_seeds,
                     "With --changed: how many times a concurrency cell (one that spawns workload threads, or of a "
                     "scenario in a concurrency/ folder) whose footprint runs changed engine code runs, each with "
                     "another seed, as cells ID#seed=K (default 3; 1 runs it once)")
      ->check(CLI::Range(1u, 64u))
      ->type_name("N");
  command.add_flag("--all", options.all, "Every selected cell, even with --changed (the whole catalog on main and nightly)");
}

// The repository is the one holding the scenarios, wherever crashgate runs from.
std::string selection_repository(const SelectionOptions& options) {
  if (options.paths.empty()) return ".";
  std::filesystem::path first(options.paths.front());
  if (std::filesystem::is_directory(first)) return first.string();
  return first.parent_path().empty() ? "." : first.parent_path().string();
}

namespace {

// --changed: narrows `cells` to what the change reaches; nothing on an error (printed).
std::optional<ChangeScope> select_changed(const SelectionOptions& options, const char* command,
                                          std::vector<PlannedCell>& cells) {
  namespace fs = std::filesystem;
  auto change = change_since(options.changed, selection_repository(options));
  if (!change) {
    std::cerr << fmt::format("crashgate {}: --changed {}: {}\n", command, options.changed, change.error());
    return std::nullopt;
  }
  ChangeScope scope;
  scope.base = options.changed;
  scope.merge_base = change->merge_base;
  scope.head = change->head;
  scope.changed_files = change->files;
  scope.sample = options.sample;
  scope.sample_seed = change->sample_seed();
  scope.total = cells.size();

  Footprints footprints;
  std::string path = options.footprints;
  if (path.empty() && fs::exists(change->root + "/" + std::string(kDefaultFootprints)))
    path = change->root + "/" + std::string(kDefaultFootprints);
  if (!path.empty()) {
    auto loaded = load_footprints(path);
    if (!loaded) {
      std::cerr << fmt::format("crashgate {}: --footprints: {}\n", command, loaded.error());
      return std::nullopt;
    }
    footprints = std::move(*loaded);
    scope.footprints = path;
    scope.footprints_recorded_at = footprints.recorded_at;
  } else {
    std::cerr << fmt::format("crashgate {}: no footprints ({} is absent; `crashgate footprints` records them): "
                             "a changed engine file selects every cell of its engine\n",
                             command, kDefaultFootprints);
  }

  // The rules compare repository-relative paths: the scenario files' too.
  std::map<std::string, std::string> relative;
  std::vector<PlannedCell> keyed = cells;
  for (PlannedCell& p : keyed) {
    auto [it, inserted] = relative.emplace(p.scenario_file, "");
    if (inserted) it->second = change->relative(p.scenario_file);
    p.scenario_file = it->second;
  }
  ChangeSelectionOptions select;
  select.changed_files = change->files;
  if (!scope.footprints.empty()) {
    // Function by function, when the lines can be carried back to the recording's.
    scope.footprints_by = "functions";
    if (footprints.recorded_at.ends_with(kFootprintsDirty))
      scope.footprints_by_why = "the footprints were recorded from uncommitted engine code, so their lines are no commit's";
    else if (!has_commit(change->root, footprints.recorded_at))
      scope.footprints_by_why = fmt::format("the commit the footprints were recorded at, {}, is not in this clone "
                                            "(git fetch it, or record them again)", footprints.recorded_at.substr(0, 10));
    for (const auto& path : change->files) {
      if (!scope.footprints_by_why.empty()) break;
      if (classify_change(path).reach != ChangeReach::engine_code || !footprints.file_index(path)) continue;
      auto changes = diff_hunks(change->root, change->merge_base, "", path);
      auto since = footprints.recorded_at == change->merge_base
                       ? Checked<std::vector<DiffHunk>>(std::vector<DiffHunk>{})
                       : diff_hunks(change->root, footprints.recorded_at, change->merge_base, path);
      if (!changes || !since) {
        scope.footprints_by_why = !changes ? changes.error() : since.error();
        break;
      }
      select.touched[path] = touched_functions(footprints, path, *changes, *since);
    }
    if (!scope.footprints_by_why.empty()) {
      scope.footprints_by = "files";
      select.touched.clear();
      std::cerr << fmt::format("crashgate {}: changed engine code is met by files, not functions: {}\n", command,
                               scope.footprints_by_why);
    }
  }
  select.sample = options.sample;
  select.sample_seed = scope.sample_seed;
  ChangeSelection chosen = select_for_change(keyed, footprints, select);
  scope.everything = chosen.everything;
  scope.everything_why = chosen.everything_why;
  scope.by_footprint = chosen.by_footprint;
  scope.by_scenario = chosen.by_scenario;
  scope.by_driver = chosen.by_driver;
  scope.by_engine = chosen.by_engine;
  scope.unrecorded = chosen.unrecorded;
  scope.sampled = chosen.sampled;
  for (std::size_t k = 0; k < chosen.selected.size(); ++k)
    scope.why[cells[chosen.selected[k]].cell.id] = chosen.reasons[k];
  for (std::size_t i : chosen.skipped) {
    const Cell& c = cells[i].cell;
    scope.skipped.push_back({c.id, c.scenario, c.target, c.build, cells[i].scenario_file});
  }
  std::vector<PlannedCell> kept;
  kept.reserve(chosen.selected.size());
  for (std::size_t i : chosen.selected) kept.push_back(std::move(cells[i]));
  std::vector<PlannedCell> more = more_seeds_of(kept, chosen.code_reached, options.concurrency_seeds);
  scope.more_seeds = more.size();
  for (const PlannedCell& p : more) {
    std::string base = p.cell.id.substr(0, p.cell.id.rfind('#'));
    scope.why[p.cell.id] = fmt::format("another seed of {} ({} runs of a concurrency cell changed engine code reaches)",
                                       base, options.concurrency_seeds);
  }
  kept.insert(kept.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  cells = std::move(kept);
  return scope;
}

}  // namespace

std::optional<std::vector<PlannedCell>> load_selected_cells(const SelectionOptions& options, std::uint64_t seed,
                                                            const char* command, const std::string& build_root,
                                                            std::optional<Shard>* shard_out, std::vector<RuledOut>* ruled_out,
                                                            std::optional<ChangeScope>* change_out) {
  std::optional<Shard> shard;
  std::string shard_error;
  if (!options.shard.empty()) {
    auto parsed = parse_shard(options.shard);
    if (parsed)
      shard = *parsed;
    else
      shard_error = "--shard " + parsed.error();
  } else {
    auto from_environment = shard_from_environment();
    if (from_environment)
      shard = *from_environment;
    else
      shard_error = from_environment.error();
  }
  if (!shard_error.empty()) {
    std::cerr << "crashgate " << command << ": " << shard_error << "\n";
    return std::nullopt;
  }
  if (shard_out) *shard_out = shard;
  std::vector<std::string> paths = options.paths.empty() ? std::vector<std::string>{"scenarios/"} : options.paths;
  bool bad_build = false;
  for (const auto& build : options.in_builds)
    if (!is_build(build)) {
      std::cerr << fmt::format("crashgate {}: --in-builds {}: not a build (the builds: {})\n", command, build, build_names());
      bad_build = true;
    }
  if (bad_build) return std::nullopt;
  ScenarioCatalog catalog = load_catalog(paths);
  for (Scenario& s : catalog.scenarios)
    if (!options.in_builds.empty()) s.builds = options.in_builds;
  for (const auto& error : catalog.errors) std::cerr << error.text() << "\n";
  if (!catalog.errors.empty()) {
    std::cerr << "crashgate " << command << ": " << catalog.errors.size()
              << (catalog.errors.size() == 1 ? " error" : " errors") << " in the scenario files; nothing was run\n";
    return std::nullopt;
  }
  std::string root = build_root.empty() ? default_build_root() : build_root;
  TargetSupport support(root);
  expand_all_targets(catalog, options.selection, support);
  auto unknown = unknown_selection_values(catalog, options.selection);
  for (const auto& error : unknown) std::cerr << "crashgate " << command << ": " << error << "\n";
  if (!unknown.empty()) return std::nullopt;
  auto unresolved = resolve_param_sources(catalog, options.selection, root);
  for (const auto& error : unresolved) std::cerr << error.text() << "\n";
  if (!unresolved.empty()) return std::nullopt;
  // Values filled from a target's table are typed now.
  for (const auto& s : catalog.scenarios)
    for (auto& error : check_cell_values(s)) unresolved.push_back(std::move(error));
  auto cells = select_cells(catalog, options.selection, seed);
  for (auto& error : hold_cells_to_targets(catalog, cells, support, ruled_out)) unresolved.push_back(std::move(error));
  for (const auto& error : unresolved) std::cerr << error.text() << "\n";
  if (!unresolved.empty()) {
    std::cerr << "crashgate " << command << ": " << unresolved.size() << (unresolved.size() == 1 ? " error" : " errors")
              << " in the scenario files; nothing was run\n";
    return std::nullopt;
  }
  if (shard) std::erase_if(cells, [&](const PlannedCell& c) { return !in_shard(c.cell.id, *shard); });
  if (!options.changed.empty() && !options.all) {
    auto scope = select_changed(options, command, cells);
    if (!scope) return std::nullopt;
    if (change_out) *change_out = std::move(*scope);
  }
  return cells;
}

}  // namespace crashgate
