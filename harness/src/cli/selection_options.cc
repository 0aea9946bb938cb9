#include "cli/selection_options.h"

#include <iostream>

#include <fmt/format.h>

#include "crashgate/builds.h"
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
}

std::optional<std::vector<PlannedCell>> load_selected_cells(const SelectionOptions& options, std::uint64_t seed,
                                                            const char* command, const std::string& build_root,
                                                            std::optional<Shard>* shard_out, std::vector<RuledOut>* ruled_out) {
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
  return cells;
}

}  // namespace crashgate
