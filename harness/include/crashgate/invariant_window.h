// When the driver kit runs the engine's own check after a step
// (check_invariants; reports/driver-protocol.md, cell.json): while the record
// model knows the store. That is from a create on, until something outside
// the model changes the store behind its back (outside damage, an import, a
// replaced file, a second process, an armed failpoint: until the next
// create), and not while workloads run (from spawn-workload until join).
#pragma once

#include <string_view>

#include "crashgate/driver_kit.h"

namespace crashgate::kit {

class InvariantWindow {
 public:
  // What a step that just ended (ok or not) does to the window.
  void after(const Args& step, bool ok) {
    const std::string_view op = step.op().name;
    if (op == "create") {
      if (ok) known_ = true, workloads_ = false;
    } else if (op == "import" || op == "truncate" || op == "corrupt" || op == "replace" || op == "second-process") {
      known_ = false;
    } else if (op == "failpoints") {
      if (!step.string("spec").empty()) known_ = false;
    } else if (op == "spawn-workload") {
      workloads_ = true;
    } else if (op == "join") {
      workloads_ = false;
    }
  }
  // Whether the check runs after the step just ended.
  bool open() const { return known_ && !workloads_; }

 private:
  bool known_ = false;
  bool workloads_ = false;
};

}  // namespace crashgate::kit
