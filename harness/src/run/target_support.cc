// The catalog held against what each target's driver can run (target_support.h).
#include "crashgate/target_support.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "crashgate/driver_listing.h"
#include "crashgate/driver_location.h"
#include "crashgate/scenario_ops.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDriverPrefix = "crashgate-driver-";

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

}  // namespace

std::optional<CannotRun> cannot_run(const TargetOps& target, const std::string& target_name, const Cell& cell) {
  for (const Step& step : cell.steps) {
    auto op = target.ops.find(step.op);
    if (op == target.ops.end()) return CannotRun{&step, "", fmt::format("target {} has no op '{}' (its driver's --list ops)", target_name, step.op)};
    const OpSpec* spec = find_op(step.op);
    if (!spec) continue;
    for (const auto& key : spec->keys) {
      if (!key.engine_values()) continue;
      auto value = step.args.find(std::string(key.name));
      if (value == step.args.end() || !value->is_string()) continue;
      auto listed = op->second.find(std::string(key.name));
      // A driver that lists no values for a key with default values takes those (a hand-written one may not list them).
      std::vector<std::string> accepted = listed != op->second.end() ? listed->second : key.driver_defaults();
      if (accepted.empty()) continue;
      if (std::find(accepted.begin(), accepted.end(), value->get<std::string>()) == accepted.end())
        return CannotRun{&step, std::string(key.name),
                         fmt::format("'{}' = \"{}\" is not among target {}'s values ({})", key.name, value->get<std::string>(),
                                     target_name, join(accepted))};
    }
  }
  return std::nullopt;
}

std::vector<std::string> TargetSupport::built_targets(const std::vector<std::string>& builds) const {
  std::vector<std::string> out;
  for (const auto& build : builds) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(build_root_) / build / "bin", ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind(kDriverPrefix, 0) != 0 || name.size() == kDriverPrefix.size()) continue;
      if (!entry.is_regular_file() || ::access(entry.path().c_str(), X_OK) != 0) continue;
      std::string target = name.substr(kDriverPrefix.size());
      if (std::find(out.begin(), out.end(), target) == out.end()) out.push_back(target);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Checked<const TargetOps*> TargetSupport::ops(const std::string& target, const std::string& build) {
  auto [it, fresh] = cache_.try_emplace(target);
  if (fresh) {
    if (auto driver = first_built_driver({driver_path(build_root_, build, target)}, build_root_, {target})) {
      DriverListing listing = list_from_driver(*driver, "ops", "op");
      if (!listing.error.empty()) {
        errors_[target] = listing.error;
      } else {
        TargetOps ops;
        for (const auto& row : listing.rows) {
          auto& keys = ops.ops[row["op"].get<std::string>()];
          if (row.contains("values") && row["values"].is_object())
            for (const auto& [key, values] : row["values"].items())
              if (values.is_array())
                for (const auto& v : values)
                  if (v.is_string()) keys[key].push_back(v.get<std::string>());
        }
        it->second = std::move(ops);
      }
    }
  }
  if (auto failed = errors_.find(target); failed != errors_.end()) return failure(failed->second);
  return it->second ? &*it->second : nullptr;
}

void expand_all_targets(ScenarioCatalog& catalog, const CellSelection& selection, TargetSupport& support) {
  for (Scenario& s : catalog.scenarios) {
    if (!s.all_targets) continue;
    std::vector<std::string> builds;
    for (const auto& b : s.builds)
      if (selection.builds.empty() || std::find(selection.builds.begin(), selection.builds.end(), b) != selection.builds.end())
        builds.push_back(b);
    s.targets = support.built_targets(builds);
  }
}

std::vector<ScenarioError> hold_cells_to_targets(const ScenarioCatalog& catalog, std::vector<PlannedCell>& cells,
                                                 TargetSupport& support, std::vector<RuledOut>* ruled_out) {
  std::map<std::string, const Scenario*> by_name;
  for (const auto& s : catalog.scenarios) by_name[s.name] = &s;
  std::vector<ScenarioError> errors;
  std::set<std::string> seen;
  std::map<std::pair<std::string, std::string>, std::size_t> ruled;  // (scenario, target) -> index in ruled_out
  std::erase_if(cells, [&](const PlannedCell& planned) {
    const Scenario* s = by_name[planned.cell.scenario];
    auto listed = support.ops(planned.cell.target, planned.cell.build);
    if (!listed && s) {
      std::string message = fmt::format("target {}: its driver cannot list its ops: {}", planned.cell.target, listed.error());
      if (seen.insert(message).second) errors.push_back({s->path, {1, 1}, message});
      return true;
    }
    const TargetOps* ops = listed ? *listed : nullptr;
    if (!ops || !s) return false;
    auto why = cannot_run(*ops, planned.cell.target, planned.cell);
    if (!why) return false;
    if (s->all_targets) {
      if (ruled_out) {
        auto key = std::make_pair(s->name, planned.cell.target);
        auto [at, fresh] = ruled.try_emplace(key, ruled_out->size());
        if (fresh) ruled_out->push_back({s->name, planned.cell.target, 0, fmt::format("step {} ({}): {}", why->step->index, why->step->op, why->reason)});
        ++(*ruled_out)[at->second].cells;
      }
      return true;
    }
    SourcePosition position = why->step->at;
    if (auto k = why->step->key_at.find(why->key.empty() ? "op" : why->key); k != why->step->key_at.end()) position = k->second;
    std::string message = fmt::format("step {} ({}): {} (cell {})", why->step->index, why->step->op, why->reason, planned.cell.id);
    if (seen.insert(fmt::format("{}:{}:{}", position.line, position.column, why->reason)).second)
      errors.push_back({s->path, position, message});
    return true;
  });
  return errors;
}

}  // namespace crashgate
