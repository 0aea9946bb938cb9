// Which cells the detection matrix runs.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "crashgate/detection_matrix.h"

namespace crashgate {
namespace {

bool is_sanitizer_build(const std::string& build) { return build == "asan" || build == "tsan"; }

// Whether R's alternatives name the kind a sanitizer build reports.
bool shows_under(const RegressionSwitch& r, const std::string& build) {
  if (build == "asan") return r.shows_as.find("asan") != std::string::npos || r.shows_as.find("ubsan") != std::string::npos;
  if (build == "tsan") return r.shows_as.find("tsan") != std::string::npos;
  return false;
}

// The id with its build replaced: "name/target/BUILD[params]".
std::string with_build(const Cell& c, const std::string& build) {
  std::string prefix = fmt::format("{}/{}/{}", c.scenario, c.target, c.build);
  return fmt::format("{}/{}/{}", c.scenario, c.target, build) + c.id.substr(prefix.size());
}

// `count` indices spread evenly over [0, n), first and last included.
std::vector<size_t> spread(size_t n, size_t count) {
  std::vector<size_t> out;
  if (count == 0 || count >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  if (count == 1) return {0};
  std::set<size_t> picked;
  for (size_t k = 0; k < count; ++k) picked.insert(k * (n - 1) / (count - 1));
  return {picked.begin(), picked.end()};
}

}  // namespace

std::vector<MatrixCell> plan_detection_matrix(const std::vector<PlannedCell>& catalog,
                                              const std::vector<RegressionSwitch>& switches, const MatrixOptions& options,
                                              const SwitchReach& reaches) {
  std::vector<MatrixCell> plan;
  // Hardened scenarios' cells, by scenario and target then build, in catalog
  // order: a switch is injected only into its own target's cells.
  using ScenarioTarget = std::pair<std::string, std::string>;
  std::vector<ScenarioTarget> order;
  std::map<ScenarioTarget, std::map<std::string, std::vector<const PlannedCell*>>> by_scenario;
  for (const PlannedCell& p : catalog) {
    if (!p.cell.regression.empty()) {
      plan.push_back({p, MatrixRole::replay});
      continue;
    }
    plan.push_back({p, MatrixRole::hardened});
    ScenarioTarget key{p.cell.scenario, p.cell.target};
    if (!by_scenario.count(key)) order.push_back(key);
    by_scenario[key][p.cell.build].push_back(&p);
  }
  for (const RegressionSwitch& r : switches) {
    for (const ScenarioTarget& key : order) {
      if (!r.target.empty() && key.second != r.target) continue;
      const auto& builds = by_scenario[key];
      const auto& only = builds.begin()->second.front()->cell.matrix_switches;
      if (!only.empty() && std::find(only.begin(), only.end(), r.id) == only.end()) continue;
      // The plain build: its own cells when the scenario names it, else those of its first build.
      std::vector<std::pair<std::string, const std::vector<const PlannedCell*>*>> runs;
      auto plain = builds.find(options.plain_build);
      runs.emplace_back(options.plain_build, plain != builds.end() ? &plain->second : &builds.begin()->second);
      for (const auto& [build, cells] : builds)
        if (build != options.plain_build && is_sanitizer_build(build) && shows_under(r, build)) runs.emplace_back(build, &cells);
      for (const auto& [build, all] : runs) {
        std::vector<const PlannedCell*> reaching;
        for (const PlannedCell* p : *all)
          if (!reaches || reaches(*p, r)) reaching.push_back(p);
        const auto* cells = &reaching;
        for (size_t i : spread(cells->size(), options.sample)) {
          PlannedCell p = *(*cells)[i];
          p.cell.id = with_build(p.cell, build) + "+" + r.id;
          p.cell.build = build;
          p.cell.regression = r.id;
          const auto* states = p.cell.crash_states ? &p.cell.crash_states->matrix_switches : nullptr;
          if (build == options.plain_build && states && std::find(states->begin(), states->end(), r.id) != states->end()) {
            PlannedCell checked = p;
            checked.cell.id += "@crash-states";
            plan.push_back({p, MatrixRole::injected});
            plan.push_back({std::move(checked), MatrixRole::crash_states});
            continue;
          }
          plan.push_back({std::move(p), MatrixRole::injected});
        }
      }
    }
  }
  return plan;
}

}  // namespace crashgate
