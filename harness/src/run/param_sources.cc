#include "crashgate/param_sources.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/driver_listing.h"
#include "crashgate/driver_location.h"
#include "crashgate/scenario.h"

namespace crashgate {
namespace {

constexpr const char* kConditions[] = {"syscall", "logic", "write-path", "read-only"};

bool holds(const nlohmann::json& row, const std::string& condition) {
  bool syscall = row.value("syscall", false), write_path = row.value("write_path", false);
  if (condition == "syscall") return syscall;
  if (condition == "logic") return !syscall;
  if (condition == "write-path") return write_path;
  if (condition == "read-only") return !write_path;
  return false;
}

// `from = "layout"`: each selected target's own files and fields, from its
// driver's `--list layout`; a target whose driver is not built, or whose
// layout has no such field, is an error for a target the scenario names, and
// leaves no cells for one that `*` brought in.
void resolve_layout_source(Scenario& s, const ParamSource& source, const CellSelection& selection,
                           const std::string& build_root, std::map<std::string, DriverListing>& cache,
                           std::vector<ScenarioError>& errors) {
  auto selected = [](const std::vector<std::string>& chosen, const std::string& value) {
    return chosen.empty() || std::find(chosen.begin(), chosen.end(), value) != chosen.end();
  };
  for (const auto& target : s.targets) {
    if (!selected(selection.targets, target)) continue;
    std::vector<std::string> preferred;
    for (const auto& build : s.builds)
      if (selected(selection.builds, build)) preferred.push_back(driver_path(build_root, build, target));
    if (preferred.empty()) continue;
    const DriverListing* listing = nullptr;
    if (auto driver = first_built_driver(preferred, build_root, {target})) {
      auto [it, fresh] = cache.try_emplace(*driver + "\n--list layout");
      if (fresh) it->second = list_from_driver(*driver, "layout", "file");
      listing = &it->second;
    }
    if (!listing) {
      errors.push_back({s.path, source.at, fmt::format("param '{}' takes its values from target {}'s layout, and no driver of it "
                                                       "is built; build one: ci/build {}", source.param, target, s.builds.front())});
      continue;
    }
    if (!listing->error.empty()) {
      errors.push_back({s.path, source.at, fmt::format("param '{}': {}", source.param, listing->error)});
      continue;
    }
    std::vector<std::string> values;
    for (const auto& row : listing->rows) {
      std::string file = row["file"].is_string() ? row["file"].get<std::string>() : "";
      if (file.empty() || !cell_glob_match(source.file_glob, file) || !row.contains("fields") || !row["fields"].is_array()) continue;
      for (const auto& field : row["fields"]) {
        if (!field.is_object() || !field.contains("name") || !field["name"].is_string()) continue;
        std::string name = field["name"];
        if (!cell_glob_match(source.field_glob, name)) continue;
        std::string value = file + "." + name;
        values.push_back(value);
        auto& parts = s.value_parts[target + "\n" + source.param + "=" + value];
        parts[source.param + ".file"] = file;
        parts[source.param + ".at"] = "field(" + name + ")";
        parts[source.param + ".offset"] = std::to_string(field.value("offset", std::uint64_t{0}));
        parts[source.param + ".width"] = std::to_string(field.value("width", std::uint64_t{0}));
      }
    }
    if (values.empty() && !s.all_targets)
      errors.push_back({s.path, source.at, fmt::format("param '{}': target {}'s layout has no field matching {}", source.param,
                                                       target, source.placeholder())});
    s.target_params[source.param][target] = std::move(values);
  }
}

}  // namespace

bool is_param_source_condition(std::string_view word) {
  return std::find(std::begin(kConditions), std::end(kConditions), word) != std::end(kConditions);
}

std::string param_source_conditions() {
  std::string out;
  for (const char* c : kConditions) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

std::vector<std::string> ParamSource::parts() const {
  if (from == "layout") return {"file", "at", "offset", "width"};
  return {};
}

std::string ParamSource::placeholder() const {
  if (from == "layout") return fmt::format("<layout: {}.{}>", file_glob, field_glob);
  std::string conditions;
  for (const auto& w : where) conditions += (conditions.empty() ? "" : ",") + w;
  if (!name_glob.empty()) conditions += (conditions.empty() ? "" : ",") + name_glob;
  return fmt::format("<{}{}{}>", from, conditions.empty() ? "" : ": ", conditions);
}

std::vector<ScenarioError> resolve_param_sources(ScenarioCatalog& catalog, const CellSelection& selection,
                                                 const std::string& build_root) {
  std::vector<ScenarioError> errors;
  std::map<std::string, DriverListing> cache;  // by driver path
  for (Scenario& s : catalog.scenarios) {
    if (s.param_sources.empty()) continue;
    auto selected = [](const std::vector<std::string>& chosen, const std::string& value) {
      return chosen.empty() || std::find(chosen.begin(), chosen.end(), value) != chosen.end();
    };
    for (const ParamSource& source : s.param_sources) {
      if (source.from == "layout") {
        resolve_layout_source(s, source, selection, build_root, cache, errors);
        continue;
      }
      // One driver answers for every cell: the table is the target's, the same in every build that has it.
      // The scenario's own builds first; failing those, any build of the
      // target: every build's driver lists the same names (release says its
      // failpoints are not compiled in, and a cell arming one there fails saying so).
      std::vector<std::string> preferred;
      for (const auto& target : s.targets)
        for (const auto& build : s.builds)
          if (selected(selection.targets, target) && selected(selection.builds, build))
            preferred.push_back(driver_path(build_root, build, target));
      if (preferred.empty()) continue;  // none of its cells is selected
      const DriverListing* listing = nullptr;
      std::string tried;
      if (auto driver = first_built_driver(preferred, build_root, s.targets, &tried)) {
        auto [it, fresh] = cache.try_emplace(*driver);
        if (fresh) it->second = list_from_driver(*driver, source.from, "name");
        listing = &it->second;
      }
      ScenarioError error{s.path, source.at, ""};
      if (!listing) {
        error.message = fmt::format("param '{}' takes its values from the target's {} table, and no driver to ask is "
                                    "built (looked for {} and every other build); build one: ci/build {}",
                                    source.param, source.from, tried, s.builds.front());
      } else if (!listing->error.empty()) {
        error.message = fmt::format("param '{}': {}", source.param, listing->error);
      } else {
        std::vector<std::string> values;
        for (const auto& row : listing->rows) {
          std::string name = row["name"].get<std::string>();
          if (!source.name_glob.empty() && !cell_glob_match(source.name_glob, name)) continue;
          if (std::all_of(source.where.begin(), source.where.end(), [&](const auto& c) { return holds(row, c); }))
            values.push_back(name);
        }
        if (values.empty())
          error.message = fmt::format("param '{}': no entry of the {} table matches {}", source.param, source.from,
                                      source.placeholder());
        else
          for (auto& [name, list] : s.params)
            if (name == source.param) list = values;
      }
      if (!error.message.empty()) errors.push_back(std::move(error));
    }
  }
  return errors;
}

}  // namespace crashgate
