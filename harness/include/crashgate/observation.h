// What the runner saw, before anyone explained it: the boundary between the
// runner (which collects) and classify() (a pure function that decides the kind).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crashgate/outcome.h"

namespace crashgate {

// A fatal-class signal caught at its delivery stop.
struct SignalCapture {
  std::int64_t pid = 0;            // the process (thread group) it hit
  std::int64_t tid = 0;            // the thread it hit
  std::string process_name;
  int signo = 0;
  int si_code = 0;
  std::uint64_t address = 0;       // si_addr for faults (SIGSEGV/BUS/ILL/FPE/TRAP)
  bool handled_by_program = false; // the program had a handler (a sanitizer, usually)
  std::optional<Attribution> attribution;
  std::vector<Thread> threads;     // unwound while stopped; empty when handled_by_program
  int crashing_thread = -1;
  std::vector<std::string> notes;  // what diagnosis could not do
  double diagnosis_ms = 0;         // stopping threads, maps, attribution, unwinding, symbolizing
};

struct Observation {
  std::vector<std::string> argv;
  std::int64_t main_pid = 0;       // the process crashgate started (also its process group)
  std::string harness_error;       // non-empty: crashgate failed, the target is not to blame
  bool exited = false;             // the main process ended (exit or signal)
  int exit_status = 0;             // when it exited normally
  int term_signal = 0;             // when a signal killed it
  bool timed_out = false;
  bool cpu_limited = false;
  bool cancelled = false;
  bool killed_by_harness = false;  // we sent SIGKILL (timeout, cancellation)
  bool oom_kill_seen = false;      // the kernel's oom_kill counter moved during the run
  std::vector<SignalCapture> signals;  // first capture per process, in order seen
  std::vector<Thread> hang_threads;    // stacks when a timeout fired, when taken
  OutputExcerpt stdout_excerpt;
  OutputExcerpt stderr_excerpt;
  std::vector<StepRecord> steps;
  bool driver_run = false;         // the command is a driver (RunSpec::driver_protocol)
  bool protocol_spoken = false;
  std::optional<EngineId> engine;  // from the driver's hello
  std::int64_t duration_ms = 0;
  std::int64_t peak_rss_kb = 0;
  std::vector<std::string> notes;
};

// Decides the Outcome (kind, detail, stacks, attribution) from what was observed.
// Crash state and signature are left to triage (triage.h).
Outcome classify(const Observation& observation);

}  // namespace crashgate
