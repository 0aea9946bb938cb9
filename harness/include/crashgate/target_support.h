// What a target's driver can run (`DRIVER --list ops`: its ops and the values
// of its engine's enum keys), and the scenario catalog held against it:
// `targets = ["*"]` becomes every built target that can run the scenario's
// cells, a cell a target cannot run is not made for it, and a scenario that
// names a target which cannot run one of its cells is an error at the
// step's file:line:column.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crashgate/cell_selection.h"
#include "crashgate/checked.h"

namespace crashgate {

inline constexpr std::string_view kAllTargets = "*";

struct TargetOps {
  std::map<std::string, std::map<std::string, std::vector<std::string>>> ops;  // op -> engine key -> values accepted
};

// Why the target cannot run this cell, with the step that rules it out; nothing when it can.
struct CannotRun {
  const Step* step = nullptr;
  std::string key;     // "" when the op itself is missing
  std::string reason;  // "target lmdb has no op 'replace'", "'what' = "scan" is not among lmdb's values (open, count)"
};
std::optional<CannotRun> cannot_run(const TargetOps& target, const std::string& target_name, const Cell& cell);

// One line of `crashgate list --explain`: a target left out of a scenario's cells, and why.
struct RuledOut {
  std::string scenario;
  std::string target;
  std::size_t cells = 0;  // cells not made
  std::string reason;     // the first cell's reason
};

class TargetSupport {
 public:
  explicit TargetSupport(std::string build_root) : build_root_(std::move(build_root)) {}
  // Targets whose driver is built for any of these builds (BUILD_ROOT/BUILD/bin/crashgate-driver-*).
  std::vector<std::string> built_targets(const std::vector<std::string>& builds) const;
  // The target's ops from its driver in `build`, or any build that has one; nullptr when none is built.
  // The failure is the driver's own error when it cannot list its ops.
  Checked<const TargetOps*> ops(const std::string& target, const std::string& build);

 private:
  std::string build_root_;
  std::map<std::string, std::optional<TargetOps>> cache_;  // by target
  std::map<std::string, std::string> errors_;
};

// Replaces `*` in each scenario's targets with every built target (of the
// scenario's selected builds); the scenario remembers it asked for all.
void expand_all_targets(ScenarioCatalog& catalog, const CellSelection& selection, TargetSupport& support);

// Drops the cells a target cannot run: those of `*` scenarios quietly (into
// `ruled_out`), those of a target a scenario names as errors. A target with
// no built driver is left alone (the run says how to build it).
std::vector<ScenarioError> hold_cells_to_targets(const ScenarioCatalog& catalog, std::vector<PlannedCell>& cells,
                                                 TargetSupport& support, std::vector<RuledOut>* ruled_out);

}  // namespace crashgate
