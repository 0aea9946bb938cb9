#include "crashgate/change_selection.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
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

bool is_header(std::string_view path) {
  return path.ends_with(".h") || path.ends_with(".hpp") || path.ends_with(".hh") || path.ends_with(".inc");
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

std::optional<std::uint32_t> Footprints::file_index(std::string_view path) const {
  auto it = std::lower_bound(files.begin(), files.end(), path);
  if (it == files.end() || *it != path) return std::nullopt;
  return static_cast<std::uint32_t>(it - files.begin());
}

const std::vector<std::uint32_t>* Footprints::functions_of(const std::string& key) const {
  auto it = cells.find(key);
  return it == cells.end() ? nullptr : &sets.at(it->second);
}

std::optional<std::vector<std::string_view>> Footprints::files_of(const std::string& key) const {
  const auto* executed = functions_of(key);
  if (!executed) return std::nullopt;
  std::set<std::uint32_t> indices;
  for (auto f : *executed) indices.insert(functions.at(f).file);
  std::vector<std::string_view> out;
  for (auto index : indices) out.push_back(files.at(index));
  return out;
}

Checked<Footprints> load_footprints(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot be read (record it with `crashgate footprints`)", path));
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return failure(fmt::format("{}: not a JSON object", path));
  if (json.value("format", "") != kFootprintsFormat)
    return failure(fmt::format("{}: format is {}, not {} (record it again with `crashgate footprints`)", path,
                               json.contains("format") ? json["format"].dump() : "missing", kFootprintsFormat));
  Footprints out;
  try {
    out.recorded_at = json.at("recorded_at").get<std::string>();
    out.files = json.at("files").get<std::vector<std::string>>();
    const auto& functions = json.at("functions");
    if (!functions.is_array()) return failure(fmt::format("{}: functions is not an array", path));
    for (std::size_t i = 0; i < functions.size(); ++i) {
      const auto& f = functions[i];
      if (!f.is_array() || f.size() != 4 || !f[0].is_number_unsigned() || !f[1].is_number_unsigned() ||
          !f[2].is_number_unsigned() || !f[3].is_string())
        return failure(fmt::format("{}: functions[{}] is not [file, first line, last line, name]", path, i));
      FootprintFunction fn{f[0].get<std::uint32_t>(), f[1].get<std::uint32_t>(), f[2].get<std::uint32_t>(),
                           f[3].get<std::string>()};
      if (fn.file >= out.files.size())
        return failure(fmt::format("{}: functions[{}] names file {} of {}", path, i, fn.file, out.files.size()));
      if (fn.first == 0 || fn.last < fn.first)
        return failure(fmt::format("{}: functions[{}] has lines {}-{}", path, i, fn.first, fn.last));
      out.functions.push_back(std::move(fn));
    }
    out.sets = json.at("footprints").get<std::vector<std::vector<std::uint32_t>>>();
    out.cells = json.at("cells").get<std::map<std::string, std::uint32_t>>();
  } catch (const nlohmann::json::exception& e) {
    return failure(fmt::format("{}: {}", path, e.what()));
  }
  if (!std::is_sorted(out.files.begin(), out.files.end()))
    return failure(fmt::format("{}: files are not sorted", path));
  for (std::size_t i = 0; i < out.sets.size(); ++i)
    for (auto index : out.sets[i])
      if (index >= out.functions.size())
        return failure(fmt::format("{}: footprints[{}] names function {} of {}", path, i, index, out.functions.size()));
  for (const auto& [key, index] : out.cells)
    if (index >= out.sets.size())
      return failure(fmt::format("{}: cell {} has footprint {} of {}", path, key, index, out.sets.size()));
  for (auto& set : out.sets) std::sort(set.begin(), set.end());
  return out;
}

CheckedDone save_footprints(const Footprints& footprints, const std::string& path) {
  // One entry a line: a new recording's diff shows what moved.
  std::string text = fmt::format("{{\n \"format\": {},\n \"recorded_at\": {},\n",
                                 nlohmann::json(kFootprintsFormat).dump(), nlohmann::json(footprints.recorded_at).dump());
  auto list = [&](std::string_view name, std::size_t n, auto&& entry, bool last = false) {
    text += fmt::format(" \"{}\": [", name);
    for (std::size_t i = 0; i < n; ++i) text += (i ? ",\n  " : "\n  ") + entry(i);
    text += n ? "\n ]" : "]";
    text += last ? "\n" : ",\n";
  };
  list("files", footprints.files.size(), [&](std::size_t i) { return nlohmann::json(footprints.files[i]).dump(); });
  list("functions", footprints.functions.size(), [&](std::size_t i) {
    const auto& f = footprints.functions[i];
    return nlohmann::json::array({f.file, f.first, f.last, f.name}).dump();
  });
  list("footprints", footprints.sets.size(), [&](std::size_t i) { return nlohmann::json(footprints.sets[i]).dump(); });
  text += " \"cells\": {";
  std::size_t k = 0;
  for (const auto& [key, index] : footprints.cells)
    text += fmt::format("{}{}: {}", k++ ? ",\n  " : "\n  ", nlohmann::json(key).dump(), index);
  text += footprints.cells.empty() ? "}\n}\n" : "\n }\n}\n";
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out) return failure(fmt::format("{}: cannot be written", temporary));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return failure(fmt::format("cannot rename {} to {}: {}", temporary, path, ec.message()));
  return done();
}

std::vector<DiffHunk> parse_diff_hunks(std::string_view diff) {
  std::vector<DiffHunk> out;
  auto number = [](std::string_view& s, std::uint32_t& n) {
    std::size_t k = 0;
    std::uint64_t v = 0;
    while (k < s.size() && s[k] >= '0' && s[k] <= '9' && k < 10) v = v * 10 + static_cast<unsigned>(s[k++] - '0');
    if (k == 0 || v > UINT32_MAX) return false;
    n = static_cast<std::uint32_t>(v);
    s.remove_prefix(k);
    return true;
  };
  // "start[,count]": a missing count is 1.
  auto range = [&](std::string_view& s, std::uint32_t& start, std::uint32_t& count) {
    if (!number(s, start)) return false;
    count = 1;
    if (s.starts_with(',')) {
      s.remove_prefix(1);
      return number(s, count);
    }
    return true;
  };
  for (std::size_t at = 0; at < diff.size();) {
    std::size_t end = diff.find('\n', at);
    if (end == std::string_view::npos) end = diff.size();
    std::string_view line = diff.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with("@@ -")) continue;
    line.remove_prefix(4);
    DiffHunk h;
    if (!range(line, h.old_start, h.old_count) || !line.starts_with(" +")) continue;
    line.remove_prefix(2);
    if (!range(line, h.new_start, h.new_count)) continue;
    out.push_back(h);
  }
  return out;
}

namespace {
// New line `line` of `hunks`: the hunk that wrote it, or where it was on the old side (0 before the first line).
struct Carried {
  const DiffHunk* written = nullptr;
  std::int64_t old = 0;
};
Carried carry_back(const std::vector<DiffHunk>& hunks, std::uint32_t line) {
  std::int64_t shift = 0;
  for (const auto& h : hunks) {
    if (h.new_count > 0 && line >= h.new_start && line < h.new_start + h.new_count) return {&h, 0};
    bool before = h.new_count > 0 ? h.new_start + h.new_count <= line : h.new_start < line;
    if (!before) break;
    shift += static_cast<std::int64_t>(h.new_count) - static_cast<std::int64_t>(h.old_count);
  }
  return {nullptr, std::max<std::int64_t>(0, static_cast<std::int64_t>(line) - shift)};
}
}  // namespace

std::optional<std::uint32_t> old_line(const std::vector<DiffHunk>& hunks, std::uint32_t line) {
  Carried c = carry_back(hunks, line);
  if (c.written || c.old < 1) return std::nullopt;
  return static_cast<std::uint32_t>(c.old);
}

std::pair<std::uint32_t, std::uint32_t> old_span(const std::vector<DiffHunk>& hunks, std::uint32_t line) {
  Carried c = carry_back(hunks, line);
  if (const DiffHunk* h = c.written) {
    if (h->old_count > 0) return {h->old_start, h->old_start + h->old_count - 1};  // what it replaced
    return {h->old_start, h->old_start + 1};  // added between two old lines
  }
  auto old = static_cast<std::uint32_t>(c.old);
  return {old, old};
}

CodeTouch touched_functions(const Footprints& footprints, const std::string& path, const std::vector<DiffHunk>& changes,
                            const std::vector<DiffHunk>& since_recorded) {
  CodeTouch out;
  auto file = footprints.file_index(path);
  // The file's functions, in recorded lines.
  std::vector<std::uint32_t> mine;
  if (file)
    for (std::uint32_t i = 0; i < footprints.functions.size(); ++i)
      if (footprints.functions[i].file == *file) mine.push_back(i);
  std::set<std::uint32_t> hit;
  auto outside = [&](std::string why) {
    if (!out.outside) out.outside_why = std::move(why);
    out.outside = true;
  };
  // The functions holding every one of `lines` (merge-base lines) as the recording placed them, or none
  // when no function holds them all.
  auto holding = [&](std::initializer_list<std::uint32_t> lines) {
    std::vector<std::uint32_t> recorded;
    bool moved = false;
    for (auto line : lines) {
      auto [first, last] = old_span(since_recorded, line);
      moved = moved || first != last;
      recorded.insert(recorded.end(), {first, last});
    }
    bool any = false;
    for (auto i : mine) {
      const auto& f = footprints.functions[i];
      if (std::all_of(recorded.begin(), recorded.end(), [&](auto l) { return f.first <= l && l <= f.last; })) {
        hit.insert(i);
        any = true;
      }
    }
    if (any) return;
    std::string where = lines.size() == 1 ? fmt::format("line {}", *lines.begin())
                                          : fmt::format("lines added after line {}", *lines.begin());
    outside(moved ? where + ", changed since the footprints were recorded, in no recorded function"
                  : where + (lines.size() == 1 ? " is in no function" : ", in no function"));
  };
  if (changes.empty()) outside("the whole file changed");
  for (const auto& h : changes) {
    if (h.old_count == 0) {
      // Lines added after old line `old_start`: inside a function when one holds both of its neighbours.
      if (h.old_start == 0) {
        outside("lines are added at the top of the file");
        continue;
      }
      holding({h.old_start, h.old_start + 1});
      continue;
    }
    for (std::uint32_t line = h.old_start; line < h.old_start + h.old_count; ++line) holding({line});
  }
  out.functions.assign(hit.begin(), hit.end());
  return out;
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
      out.code_reached.push_back(false);
    }
    return out;
  }
  // Engine code no footprint holds (a header of declarations only, a new file): every cell of its engine.
  std::set<std::string> held;
  for (const auto& set : footprints.sets)
    for (auto index : set) held.insert(footprints.files[footprints.functions[index].file]);
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
        auto touch = options.touched.find(path);
        if (!held.contains(path)) {
          reason = path + " changed, which no recorded footprint holds: every " + c.engine + " cell";
          counter = &out.by_engine;
        } else if (touch != options.touched.end() && touch->second.outside && is_header(path)) {
          reason = fmt::format("{}: {}, and every file that includes a header compiles it: every {} cell", path,
                               touch->second.outside_why, c.engine);
          counter = &out.by_engine;
        } else if (!files) {
          reason = path + " changed, and this cell has no recorded footprint";
          counter = &out.unrecorded;
        } else if (touch != options.touched.end() && !touch->second.outside) {
          const auto& ran = *footprints.functions_of(key);
          const auto& changed = touch->second.functions;
          auto it = std::find_first_of(changed.begin(), changed.end(), ran.begin(), ran.end());
          if (it != changed.end()) {
            const auto& f = footprints.functions[*it];
            reason = fmt::format("its footprint runs {} ({}:{}-{}), which changed", f.name, path, f.first, f.last);
            counter = &out.by_footprint;
          }
        } else if (std::find(files->begin(), files->end(), path) != files->end()) {
          reason = touch != options.touched.end() ? fmt::format("its footprint holds {} ({})", path, touch->second.outside_why)
                                                   : "its footprint holds " + path;
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
    out.code_reached.push_back(counter == &out.by_footprint || counter == &out.by_engine || counter == &out.unrecorded);
  }
  return out;
}

bool runs_concurrently(const PlannedCell& p) {
  for (const auto& part : std::filesystem::path(p.scenario_file).parent_path())
    if (part == "concurrency") return true;
  return std::any_of(p.cell.steps.begin(), p.cell.steps.end(), [](const Step& s) { return s.op == "spawn-workload"; });
}

std::vector<PlannedCell> more_seeds_of(const std::vector<PlannedCell>& selected, const std::vector<bool>& code_reached,
                                       unsigned seeds) {
  std::vector<PlannedCell> out;
  for (std::size_t i = 0; i < selected.size() && i < code_reached.size(); ++i) {
    if (!code_reached[i] || !runs_concurrently(selected[i])) continue;
    for (unsigned k = 2; k <= seeds; ++k) {
      PlannedCell copy = selected[i];
      copy.cell.id = fmt::format("{}#seed={}", selected[i].cell.id, k);
      copy.cell.seed = draw(selected[i].cell.seed, copy.cell.id);
      out.push_back(std::move(copy));
    }
  }
  return out;
}

std::vector<std::uint32_t> regression_lines(std::string_view text, std::string_view id) {
  std::string name = "Regression::" + std::string(id);
  std::replace(name.begin(), name.end(), '-', '_');
  auto identifier = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::vector<std::uint32_t> out;
  std::uint32_t line = 1;
  std::size_t counted = 0;  // newlines before this offset are in `line`
  for (std::size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    std::size_t end = at + name.size();
    if ((at > 0 && identifier(text[at - 1])) || (end < text.size() && identifier(text[end]))) continue;
    line += static_cast<std::uint32_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(counted),
                                                  text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    counted = at;
    if (out.empty() || out.back() != line) out.push_back(line);
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> switch_functions(
    const Footprints& footprints, const std::vector<std::pair<std::string, std::uint32_t>>& hits,
    const std::map<std::string, std::vector<DiffHunk>>& since) {
  if (hits.empty()) return std::nullopt;
  std::set<std::uint32_t> out;
  static const std::vector<DiffHunk> kNone;
  for (const auto& [path, line] : hits) {
    auto file = footprints.file_index(path);
    if (!file) return std::nullopt;
    auto it = since.find(path);
    auto [first, last] = old_span(it == since.end() ? kNone : it->second, line);
    bool held = false;
    for (std::uint32_t i = 0; i < footprints.functions.size(); ++i) {
      const auto& f = footprints.functions[i];
      if (f.file == *file && f.first <= first && last <= f.last) {
        out.insert(i);
        held = true;
      }
    }
    if (!held) return std::nullopt;
  }
  return std::vector<std::uint32_t>(out.begin(), out.end());
}

std::set<std::string> scenario_names_in(std::string_view toml) {
  std::set<std::string> out;
  for (std::size_t at = 0; at < toml.size();) {
    std::size_t end = toml.find('\n', at);
    if (end == std::string_view::npos) end = toml.size();
    std::string_view line = toml.substr(at, end - at);
    at = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.starts_with('[')) break;  // the first table: past the top-level keys
    if (!line.starts_with("name")) continue;
    line.remove_prefix(4);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.starts_with('=')) continue;
    line.remove_prefix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.starts_with('"')) continue;
    std::size_t close = line.find('"', 1);
    if (close != std::string_view::npos) out.emplace(line.substr(1, close - 1));
  }
  return out;
}

SwitchSelection select_switches_for_change(const std::vector<std::string>& changed_files,
                                           const std::vector<RegressionRef>& switches,
                                           const std::set<std::string>& scenario_files_with_switches,
                                           const std::function<std::optional<std::string>(const std::string&)>& read,
                                           std::uint64_t seed, bool rotate, const SwitchCatchers* catchers) {
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
    } else if (c.reach == ChangeReach::scenario && (catchers || scenario_files_with_switches.contains(path))) {
      // A removed file has no cells now, but its scenarios may have caught a switch: the catchers say.
      bool has_switch_cells = scenario_files_with_switches.contains(path);
      std::set<std::string> names = catchers && catchers->names_in ? catchers->names_in(path) : std::set<std::string>{};
      if (names.empty()) {
        if (has_switch_cells) all("its scenario file " + path + " changed: any switch may have been caught there");
        continue;
      }
      for (std::size_t k = 0; k < switches.size(); ++k) {
        if (!why[k].empty()) continue;
        auto caught = catchers->by_switch.find(switches[k].id);
        if (caught == catchers->by_switch.end()) {
          if (!has_switch_cells) continue;
          why[k] = fmt::format("{} changed, and {} has no full-matrix result for it", path, catchers->source);
          continue;
        }
        for (const auto& name : names)
          if (caught->second.contains(name)) {
            why[k] = fmt::format("{} changed, and its scenario {} caught it in {}", path, name, catchers->source);
            break;
          }
      }
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
