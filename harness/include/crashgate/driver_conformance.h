// `crashgate driver-check`: the conformance suite every driver passes
// (reports/driver-protocol.md). Each check runs the driver as crashgate does
// and says, when it fails, what it saw and what the protocol wants.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace crashgate {

struct ConformanceCheck {
  std::string name;    // "hello-first", "worker-stack", ...
  bool passed = false;
  bool skipped = false;  // the driver lacks what the check needs (said in detail)
  std::string detail;  // what was seen; for a failure, why it breaks the protocol
};

struct ConformanceOptions {
  std::string work_root;              // where cells run (a fresh directory per check)
  int timeout_seconds = 60;           // per cell
  std::function<void(const ConformanceCheck&)> on_check;  // called as each check ends (progress)
};

// The checks, in order: list-ops, list-layout, list-unknown, hello-first,
// all-ok-exit, failed-step-exit, unknown-op, wrong-protocol, step-start-first,
// worker-stack, deterministic, every-op-runs.
std::vector<std::string> conformance_check_names();

std::vector<ConformanceCheck> check_driver(const std::string& driver, const ConformanceOptions& options);

}  // namespace crashgate
