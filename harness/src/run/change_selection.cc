#include "crashgate/change_selection.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crashgate {
namespace {

// FNV-1a then a 64-bit finalizer: the sample's draw for one cell.
std::uint64_t draw(std::uint64_t seed, std::string_view id) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

bool glob_at(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.starts_with("**/")) {  // zero or more whole directories
      std::string_view rest = p.substr(3);
      if (glob_at(rest, s)) return true;
      for (std::size_t k = 0; k < s.size(); ++k)
        if (s[k] == '/' && glob_at(rest, s.substr(k + 1))) return true;
      return false;
    }
    if (p.starts_with("**")) {  // anything, across directories
      std::string_view rest = p.substr(2);
      for (std::size_t k = 0; k <= s.size(); ++k)
        if (glob_at(rest, s.substr(k))) return true;
      return false;
    }
    if (p[0] == '*') {  // anything within one directory
      std::string_view rest = p.substr(1);
      for (std::size_t k = 0; k <= s.size(); ++k) {
        if (glob_at(rest, s.substr(k))) return true;
        if (k < s.size() && s[k] == '/') return false;
      }
      return false;
    }
    if (s.empty() || (p[0] == '?' ? s[0] == '/' : p[0] != s[0])) return false;
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

std::string engine_of(std::string_view path) {
  if (!path.starts_with("targets/")) return "";
  path.remove_prefix(8);
  return std::string(path.substr(0, path.find('/')));
}

}  // namespace

bool path_glob_match(std::string_view pattern, std::string_view path) { return glob_at(pattern, path); }

ChangeClass classify_change(std::string_view path) {
  for (const auto& rule : change_rules())
    if (path_glob_match(rule.pattern, path))
      return ChangeClass{rule.reach, std::string(rule.why), engine_of(path)};
  return ChangeClass{ChangeReach::everything, "a file crashgate cannot tell the reach of", ""};
}

std::string footprint_key(const Cell& cell) {
  // "name/target/build[params]": the build is the third part, up to '[' or the end.
  std::string_view id = cell.id;
  std::size_t first = id.find('/');
  std::size_t second = first == std::string_view::npos ? first : id.find('/', first + 1);
  if (second == std::string_view::npos) return cell.id;
  std::size_t end = id.find('[', second);
  if (end == std::string_view::npos) end = id.size();
  return std::string(id.substr(0, second + 1)) + "*" + std::string(id.substr(end));
}

std::optional<std::vector<std::string_view>> Footprints::files_of(const std::string& key) const {
  auto it = cells.find(key);
  if (it == cells.end()) return std::nullopt;
  std::vector<std::string_view> out;
  for (auto index : sets.at(it->second)) out.push_back(files.at(index));
  return out;
}

Checked<Footprints> load_footprints(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot be read (record it with `crashgate footprints`)", path));
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return failure(fmt::format("{}: not a JSON object", path));
  if (json.value("format", "") != kFootprintsFormat)
    return failure(fmt::format("{}: format is {}, not {}", path, json.contains("format") ? json["format"].dump() : "missing",
                               kFootprintsFormat));
  Footprints out;
  try {
    out.recorded_at = json.at("recorded_at").get<std::string>();
    out.files = json.at("files").get<std::vector<std::string>>();
    out.sets = json.at("footprints").get<std::vector<std::vector<std::uint32_t>>>();
    out.cells = json.at("cells").get<std::map<std::string, std::uint32_t>>();
  } catch (const nlohmann::json::exception& e) {
    return failure(fmt::format("{}: {}", path, e.what()));
  }
  for (std::size_t i = 0; i < out.sets.size(); ++i)
    for (auto index : out.sets[i])
      if (index >= out.files.size())
        return failure(fmt::format("{}: footprints[{}] names file {} of {}", path, i, index, out.files.size()));
  for (const auto& [key, index] : out.cells)
    if (index >= out.sets.size())
      return failure(fmt::format("{}: cell {} has footprint {} of {}", path, key, index, out.sets.size()));
  return out;
}

CheckedDone save_footprints(const Footprints& footprints, const std::string& path) {
  nlohmann::json json = {{"format", kFootprintsFormat},
                         {"recorded_at", footprints.recorded_at},
                         {"files", footprints.files},
                         {"footprints", footprints.sets},
                         {"cells", footprints.cells}};
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json.dump(1) << "\n";
    if (!out) return failure(fmt::format("{}: cannot be written", temporary));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return failure(fmt::format("cannot rename {} to {}: {}", temporary, path, ec.message()));
  return done();
}

ChangeSelection select_for_change(const std::vector<PlannedCell>& cells, const Footprints& footprints,
                                  const ChangeSelectionOptions& options) {
  ChangeSelection out;
  std::vector<std::pair<std::string, ChangeClass>> changes;
  for (const auto& path : options.changed_files) {
    ChangeClass c = classify_change(path);
    if (c.reach == ChangeReach::everything && !out.everything) {
      out.everything = true;
      out.everything_why = fmt::format("{}: {}", path, c.why);
    }
    changes.emplace_back(path, std::move(c));
  }
  if (out.everything) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out.selected.push_back(i);
      out.reasons.push_back(out.everything_why);
    }
    return out;
  }
  // Engine code no footprint holds (a header of declarations only, a new file): every cell of its engine.
  std::set<std::string> held;
  for (const auto& set : footprints.sets)
    for (auto index : set) held.insert(footprints.files[index]);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const PlannedCell& p = cells[i];
    std::string key = footprint_key(p.cell);
    auto files = footprints.files_of(key);
    std::string reason;
    std::size_t* counter = nullptr;
    for (const auto& [path, c] : changes) {
      if (c.reach == ChangeReach::scenario && p.scenario_file == path) {
        reason = "its scenario file " + path + " changed";
        counter = &out.by_scenario;
      } else if (c.reach == ChangeReach::driver && p.cell.target == c.engine) {
        reason = "its driver changed: " + path;
        counter = &out.by_driver;
      } else if (c.reach == ChangeReach::engine_code && p.cell.target == c.engine) {
        if (!held.contains(path)) {
          reason = path + " changed, which no recorded footprint holds: every " + c.engine + " cell";
          counter = &out.by_engine;
        } else if (!files) {
          reason = path + " changed, and this cell has no recorded footprint";
          counter = &out.unrecorded;
        } else if (std::find(files->begin(), files->end(), path) != files->end()) {
          reason = "its footprint holds " + path;
          counter = &out.by_footprint;
        }
      }
      if (!reason.empty()) break;
    }
    if (reason.empty() && options.sample > 0 &&
        static_cast<double>(draw(options.sample_seed, p.cell.id) >> 11) < options.sample * 9007199254740992.0) {
      reason = fmt::format("the rotating sample ({:g}% of the rest)", options.sample * 100);
      counter = &out.sampled;
    }
    if (reason.empty()) {
      out.skipped.push_back(i);
      continue;
    }
    ++*counter;
    out.selected.push_back(i);
    out.reasons.push_back(std::move(reason));
  }
  return out;
}

SwitchSelection select_switches_for_change(const std::vector<std::string>& changed_files,
                                           const std::vector<RegressionRef>& switches,
                                           const std::set<std::string>& scenario_files_with_switches,
                                           const std::function<std::optional<std::string>(const std::string&)>& read,
                                           std::uint64_t seed, bool rotate) {
  SwitchSelection out;
  std::vector<std::string> why(switches.size());
  auto all = [&](const std::string& reason) {
    for (auto& w : why)
      if (w.empty()) w = reason;
  };
  for (const auto& path : changed_files) {
    ChangeClass c = classify_change(path);
    if (c.reach == ChangeReach::everything) {
      out.everything = true;
      all(fmt::format("{}: {}", path, c.why));
    } else if (c.reach == ChangeReach::scenario && scenario_files_with_switches.contains(path)) {
      all("its scenario file " + path + " changed: any switch may have been caught there");
    } else if (c.reach == ChangeReach::driver || c.reach == ChangeReach::engine_code) {
      std::optional<std::string> text = c.reach == ChangeReach::engine_code ? read(path) : std::nullopt;
      for (std::size_t k = 0; k < switches.size(); ++k) {
        if (switches[k].target != c.engine || !why[k].empty()) continue;
        std::string name = switches[k].id;
        std::replace(name.begin(), name.end(), '-', '_');
        if (c.reach == ChangeReach::driver)
          why[k] = "its engine's driver changed: " + path;
        else if (!text)
          why[k] = path + " was removed";
        else if (text->find("Regression::" + name) != std::string::npos)
          why[k] = path + " holds its code";
      }
    }
  }
  if (rotate) {
    std::vector<std::size_t> rest;
    for (std::size_t k = 0; k < switches.size(); ++k)
      if (why[k].empty()) rest.push_back(k);
    if (!rest.empty()) why[rest[draw(seed, "matrix") % rest.size()]] = "the rotating switch of this commit";
  }
  for (std::size_t k = 0; k < switches.size(); ++k)
    if (!why[k].empty()) {
      out.ids.push_back(switches[k].id);
      out.why.push_back(why[k]);
    }
  return out;
}

}  // namespace crashgate
