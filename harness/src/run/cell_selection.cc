// Scenario discovery and cell selection for `crashgate run` and `crashgate list`.
#include "crashgate/cell_selection.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace crashgate {
namespace {

namespace fs = std::filesystem;

// Where `name = ...` is written, so a duplicate is reported at the line to edit.
SourcePosition name_position(const std::string& path) {
  try {
    toml::table root = toml::parse_file(path);
    if (const auto* node = root.get("name"))
      return {static_cast<int>(node->source().begin.line), static_cast<int>(node->source().begin.column)};
  } catch (const toml::parse_error&) {
  }
  return {1, 1};
}

void add_scenario_files(const std::string& path, std::vector<std::string>& files, std::vector<ScenarioError>& errors) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    errors.push_back({path, {0, 0}, "no such file or directory"});
    return;
  }
  if (!fs::is_directory(status)) {
    files.push_back(path);
    return;
  }
  std::vector<std::string> found;
  for (fs::recursive_directory_iterator it(path, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".toml" && it->is_regular_file()) found.push_back(it->path().string());
  if (ec) errors.push_back({path, {0, 0}, fmt::format("cannot list the directory: {}", ec.message())});
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

std::vector<std::string> scenario_files(const std::vector<std::string>& paths, std::vector<ScenarioError>& errors) {
  std::vector<std::string> files;
  for (const auto& path : paths) add_scenario_files(path, files, errors);
  return files;
}

ScenarioCatalog load_catalog(const std::vector<std::string>& paths) {
  ScenarioCatalog catalog;
  std::vector<std::string> files = scenario_files(paths, catalog.errors);
  std::set<std::string> seen_files;
  std::map<std::string, std::string> file_of_name;
  for (const auto& file : files) {
    // Named twice on the command line? (A path with no canonical form, a pipe's /dev/stdin, is its own.)
    std::error_code ec;
    fs::path real = fs::weakly_canonical(file, ec);
    if (!seen_files.insert(ec ? file : real.string()).second) continue;
    auto parsed = load_scenario(file);
    catalog.errors.insert(catalog.errors.end(), parsed.errors.begin(), parsed.errors.end());
    if (!parsed.scenario) continue;
    auto [it, fresh] = file_of_name.emplace(parsed.scenario->name, file);
    if (!fresh) {
      catalog.errors.push_back({file, name_position(file),
                                fmt::format("scenario name '{}' is already used by {} (cell ids must be unique)",
                                            parsed.scenario->name, it->second)});
      continue;
    }
    catalog.scenarios.push_back(std::move(*parsed.scenario));
  }
  return catalog;
}

std::vector<PlannedCell> select_cells(const ScenarioCatalog& catalog, const CellSelection& selection,
                                      std::uint64_t seed) {
  std::vector<PlannedCell> out;
  for (const auto& scenario : catalog.scenarios)
    for (auto& cell : expand_cells(scenario, seed)) {
      if (!selection.builds.empty() && !contains(selection.builds, cell.build)) continue;
      if (!selection.targets.empty() && !contains(selection.targets, cell.target)) continue;
      if (!selection.filters.empty() &&
          std::none_of(selection.filters.begin(), selection.filters.end(),
                       [&](const std::string& glob) { return cell_glob_match(glob, cell.id); }))
        continue;
      out.push_back({std::move(cell), scenario.path, scenario.summary, scenario.origin});
    }
  return out;
}

std::vector<std::string> unknown_selection_values(const ScenarioCatalog& catalog, const CellSelection& selection) {
  std::set<std::string> builds, targets;
  for (const auto& s : catalog.scenarios) {
    builds.insert(s.builds.begin(), s.builds.end());
    targets.insert(s.targets.begin(), s.targets.end());
  }
  auto names = [](const std::set<std::string>& set) {
    std::string out;
    for (const auto& s : set) out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? std::string("none") : out;
  };
  std::vector<std::string> errors;
  for (const auto& b : selection.builds)
    if (!builds.count(b)) errors.push_back(fmt::format("--build {}: no scenario names this build (they name: {})", b, names(builds)));
  for (const auto& t : selection.targets)
    if (!targets.count(t)) errors.push_back(fmt::format("--target {}: no scenario names this target (they name: {})", t, names(targets)));
  return errors;
}

// Iterative matcher with one backtrack point per '*': linear for the patterns people write.
bool cell_glob_match(std::string_view pattern, std::string_view id) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < id.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == id[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace crashgate
