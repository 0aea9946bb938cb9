#include "crashgate/change_scope.h"

#include <fmt/format.h>

#include "crashgate/limits.h"

namespace crashgate {

using nlohmann::json;

namespace {

// The counters, in the order the breakdown says them: one table for JSON and text.
struct Counter {
  const char* key;
  std::size_t ChangeScope::*member;
  const char* text;  // after the count
  bool since_v2 = false;  // a results.json written before it existed has none: 0
};
constexpr Counter kCounters[] = {
    {"footprint", &ChangeScope::by_footprint, "whose footprint runs changed code"},
    {"scenario", &ChangeScope::by_scenario, "of changed scenario files"},
    {"driver", &ChangeScope::by_driver, "of engines whose driver changed"},
    {"engine", &ChangeScope::by_engine, "of engines whose changed code no footprint holds"},
    {"unrecorded", &ChangeScope::unrecorded, "with no recorded footprint, in a changed engine"},
    {"sampled", &ChangeScope::sampled, "from the rotating sample"},
    {"more_seeds", &ChangeScope::more_seeds, "more runs of concurrency cells whose footprint runs changed code, with other seeds", true},
};

std::string short_commit(const std::string& commit) { return commit.substr(0, 10); }

}  // namespace

std::string ChangeScope::headline() const {
  return fmt::format("{} of {} cells selected for the change since {} (merge base {}, {} changed {})",
                     format_thousands(selected()), format_thousands(total), base, short_commit(merge_base),
                     format_thousands(changed_files.size()), changed_files.size() == 1 ? "file" : "files");
}

std::string ChangeScope::breakdown() const {
  if (everything) return fmt::format("every cell: {}", everything_why);
  std::string out;
  for (const Counter& c : kCounters) {
    std::size_t n = this->*c.member;
    if (n == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", format_thousands(n), c.text);
    if (c.member == &ChangeScope::sampled) out += fmt::format(" ({:g}% of the rest)", sample * 100);
  }
  return out.empty() ? "no cell: no changed file reaches one" : out;
}

json change_scope_json(const ChangeScope& s) {
  json counts = json::object();
  for (const Counter& c : kCounters) counts[c.key] = s.*c.member;
  json skipped = json::array();
  for (const SkippedCell& k : s.skipped)
    skipped.push_back({{"id", k.id}, {"scenario", k.scenario}, {"target", k.target}, {"build", k.build},
                       {"scenario_file", k.scenario_file}});
  return {{"base", s.base},
          {"merge_base", s.merge_base},
          {"head", s.head},
          {"changed_files", s.changed_files},
          {"footprints", s.footprints.empty() ? json(nullptr) : json(s.footprints)},
          {"footprints_recorded_at", s.footprints_recorded_at},
          {"footprints_by", s.footprints_by},
          {"footprints_by_why", s.footprints_by_why},
          {"sample", s.sample},
          {"sample_seed", s.sample_seed},
          {"everything", s.everything},
          {"everything_why", s.everything_why},
          {"total", s.total},
          {"selected_by", counts},
          {"why", s.why},
          {"skipped", skipped}};
}

Checked<ChangeScope> change_scope_from_json(const json& j) {
  if (!j.is_object()) return failure("not an object");
  ChangeScope s;
  std::string at;
  try {
    at = "base", s.base = j.at(at).get<std::string>();
    at = "merge_base", s.merge_base = j.at(at).get<std::string>();
    at = "head", s.head = j.at(at).get<std::string>();
    at = "changed_files", s.changed_files = j.at(at).get<std::vector<std::string>>();
    at = "footprints";
    if (!j.at(at).is_null()) s.footprints = j.at(at).get<std::string>();
    at = "footprints_recorded_at", s.footprints_recorded_at = j.at(at).get<std::string>();
    at = "footprints_by", s.footprints_by = j.at(at).get<std::string>();
    at = "footprints_by_why", s.footprints_by_why = j.at(at).get<std::string>();
    at = "sample", s.sample = j.at(at).get<double>();
    at = "sample_seed", s.sample_seed = j.at(at).get<std::uint64_t>();
    at = "everything", s.everything = j.at(at).get<bool>();
    at = "everything_why", s.everything_why = j.at(at).get<std::string>();
    at = "total", s.total = j.at(at).get<std::size_t>();
    for (const Counter& c : kCounters) {
      at = std::string("selected_by.") + c.key;
      const json& by = j.at("selected_by");
      s.*c.member = c.since_v2 && !by.contains(c.key) ? 0 : by.at(c.key).get<std::size_t>();
    }
    at = "why", s.why = j.at(at).get<std::map<std::string, std::string>>();
    at = "skipped";
    for (const json& k : j.at(at))
      s.skipped.push_back({k.at("id").get<std::string>(), k.at("scenario").get<std::string>(),
                           k.at("target").get<std::string>(), k.at("build").get<std::string>(),
                           k.at("scenario_file").get<std::string>()});
  } catch (const json::exception& e) {
    return failure(fmt::format("{}: {}", at, e.what()));
  }
  if (s.skipped.size() > s.total)
    return failure(fmt::format("skipped: {} cells, more than the {} there were", s.skipped.size(), s.total));
  return s;
}

}  // namespace crashgate
