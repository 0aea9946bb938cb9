// The driver protocol: how the runner hands a scenario cell to a driver
// process and learns, step by step, how far it got. Full text:
// reports/driver-protocol.md. Version 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/observation.h"
#include "crashgate/runner.h"

namespace crashgate {

struct Cell;

inline constexpr int kDriverProtocolVersion = 1;
inline constexpr int kDriverEventFd = 3;  // also announced as CRASHGATE_EVENT_FD

// Driver exit statuses (anything else, or a signal, is the target's outcome).
inline constexpr int kDriverAllStepsOk = 0;
inline constexpr int kDriverStepFailed = 1;   // a step ended with an error: outcome "error"
inline constexpr int kDriverCannotRun = 2;    // the driver could not run the cell: outcome "harness-error"

struct EventLine {
  std::int64_t at_ms = 0;  // when the runner read it, since the run started
  std::string text;
};

// Turns the event lines a driver wrote into obs.steps (and notes for malformed
// lines). Each step-end is what happened; crashgate judges it against the
// step's own `expect` (step_expects[index], "" for none: judge_step in
// step_values.h), so a step that ended as expected is ok, and one that did not
// is an error with code wrong-result, whatever the driver thought of it.
void read_step_events(const std::vector<EventLine>& lines, Observation& obs,
                      const std::vector<std::string>& step_expects = {});

// The cell document a driver reads (--cell PATH).
nlohmann::json cell_document(const Cell& cell, const std::string& work_dir);

// A RunSpec that runs `driver_command --cell WORK_DIR/cell.json` in WORK_DIR
// (created if missing) with the cell's limits and the protocol's fd 3.
// The failure says why (no driver command, the work directory or its
// cell.json cannot be made).
Checked<RunSpec> cell_run_spec(const Cell& cell, const std::vector<std::string>& driver_command,
                               const std::string& work_dir);

}  // namespace crashgate
