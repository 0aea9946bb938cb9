// The runner: runs a command isolated and observed, and returns its Outcome.
//
// Each run gets its own process group, rlimits, bounded stdout/stderr capture
// and a wall-clock deadline; it is traced with ptrace (all threads, forks and
// clones) so fatal signals are caught at delivery and diagnosed while the
// process is still stopped. When a run ends, every process it left behind is
// killed and reaped. Thread rule: any thread may call run_observed; runs on
// different threads are independent.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/limits.h"
#include "crashgate/outcome.h"

namespace crashgate {

class KnownIssues;

// A stop request shared by many runs: Ctrl-C in the CLI. cancel() is
// async-signal-safe, so a signal handler may call it.
class Cancellation {
 public:
  Cancellation();
  ~Cancellation();
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;
  void cancel() noexcept;
  bool cancelled() const noexcept;
  int poll_fd() const noexcept { return fd_; }  // readable once cancelled

 private:
  int fd_;
};

struct CaptureBounds {
  std::size_t head_bytes = 64 * 1024;
  std::size_t tail_bytes = 64 * 1024;
};

struct RunSpec {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> env;  // set on top of crashgate's environment
  std::string work_dir;                    // "" = crashgate's working directory
  Limits limits;
  CaptureBounds stdout_bounds;
  // Sanitizer reports are parsed from stderr; keep more of it.
  CaptureBounds stderr_bounds{1024 * 1024, 1024 * 1024};
  std::chrono::milliseconds kill_grace{1000};  // between SIGTERM and SIGKILL on timeout/cancel
  bool driver_protocol = false;            // open fd 3 for driver step events (driver_protocol.h)
  std::vector<std::string> step_expects;   // driver protocol: each step's own `expect` by index ("" none);
                                           // crashgate judges every step-end against it
  bool sanitizer_options = true;           // add defaults to *SAN_OPTIONS (a user's own keys win)
  bool trace = true;                       // ptrace the run; off: exit status and reports only
  std::string cell_id;                     // the scenario cell this run is ("" none): known issues may name cells
};

struct RunContext {
  const Cancellation* cancellation = nullptr;
  const KnownIssues* known_issues = nullptr;
};

// Runs spec.argv to completion (or timeout/cancellation) and classifies how it ended.
// Never throws for anything the target does; crashgate's own failures become
// an Outcome of kind harness-error.
Outcome run_observed(const RunSpec& spec, const RunContext& context = {});

// Runs every spec with up to `jobs` at a time (0 = default_jobs()). on_done is
// called from worker threads, one call at a time, as each run finishes. After
// cancellation, runs not yet started are returned as harness-error "not run".
std::vector<Outcome> run_parallel(std::span<const RunSpec> specs, unsigned jobs, const RunContext& context = {},
                                  const std::function<void(std::size_t index, const Outcome&)>& on_done = {});

unsigned default_jobs();  // the number of CPUs this process may run on

// The command line of `crashgate exec` that reproduces spec, shell-quoted.
std::string repro_command(const RunSpec& spec);
std::string shell_quote(std::string_view word);

}  // namespace crashgate
