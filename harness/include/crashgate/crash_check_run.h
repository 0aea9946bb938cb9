// The work of `crashgate crash-check`, for it and for the detection matrix
// (which checks a crash-states scenario's cells with a switch on): each cell
// recorded, the states a power cut may leave at its crash points written out a
// batch at a time, and each distinct state's recovery cell run and judged
// (crash_check.h). The caller chooses the cells, the run directory and what to
// print.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/crash_states.h"
#include "crashgate/run_matrix.h"
#include "crashgate/run_results.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"

namespace crashgate {

struct CrashCheckSetup {
  std::vector<Cell> cells;                   // recorded one by one (their build and switches already set)
  PersistenceModel model = PersistenceModel::posix;
  std::uint64_t sample = 0;                  // crash points a cell, chosen by its seed (0: every call of the phase)
  std::optional<std::pair<int, int>> steps;  // the phase: crash points from step first's start to step last's end
  std::string scenario_file;
  std::string build_root;
  std::string run_dir;                       // recorded/<i>/, states/, batches/<n>/ go under it
  std::string repro_run_dir;                 // how repro commands name run_dir
  unsigned jobs = 1;
  RunContext context;                        // cancellation, known issues
  // Each finished batch of recovery cells: how many it ran, then each attempt.
  std::function<void(std::size_t cells)> batch_started;
  AttemptCallback attempt_done;
  std::function<void()> batch_finished;
  // A line worth saying (a cell being recorded, what its recording held), and
  // why a cell's states could not be checked (the cell's id, then the reason).
  std::function<void(const std::string& line)> note;
  std::function<void(const std::string& line)> problem;
};

// One recorded cell and what came of it.
struct CrashCheckedCell {
  Cell cell;
  std::string recording;
  std::uint64_t calls = 0, events = 0, points = 0, states = 0, unique = 0;
  double seconds = 0;  // recording
  std::string error;   // why its states were not checked ("": they were)
};

// A checked state: results[i] is the recovery of states[i].
struct CheckedState {
  std::size_t recorded = 0;  // which recorded cell
  CrashState state;
  std::string site;          // the call site (module+offset) of the operation the state is about
  std::string caller;        // the frame that called it (caller_of_site), "" when none was kept
  std::vector<std::string> stack;  // the operation's stack as recorded (site_and_caller reads it symbolized)
  std::string call;          // that operation: "#12 pwrite64 store/vectors-0.bin"
};

struct CrashCheckRun {
  std::vector<CrashCheckedCell> recorded;
  std::vector<CheckedState> states;
  std::vector<CellResult> results;
  double check_seconds = 0;
  std::string fatal;  // a state that could not be written out; nothing after it ran
};

// Failed states kept on disk (for repro) per (call site, state kind); a state
// that recovered is deleted as soon as its batch ends.
inline constexpr std::size_t kKeptFailedStates = 5;

CrashCheckRun check_crash_states(const CrashCheckSetup& setup);

}  // namespace crashgate
