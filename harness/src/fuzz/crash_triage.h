// What `crashgate fuzz` does with one crash artifact: reproduce it under the
// runner's observers (the fuzz binary on that single input), classify it and
// compute its signature; and, for a signature not seen before, minimize it
// (libFuzzer's -minimize_crash, within a time budget) keeping only a smaller
// input that still gives the same signature.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/outcome.h"
#include "crashgate/runner.h"

namespace crashgate {

struct FuzzTargetRun {
  std::string target;    // "vstore_filter"
  std::string binary;    // the libFuzzer binary
  std::vector<std::pair<std::string, std::string>> env;  // VSTORE_REGRESSION, ...
  std::vector<std::string> flags;  // from the target's .options (max_len, dict, ...)
};

// Runs the binary on `input` alone, observed. A crash comes back with kind,
// crash_state and signature set; ok when the input no longer crashes.
Outcome reproduce_crash(const FuzzTargetRun& t, const std::string& input, const RunContext& context);

struct Minimized {
  std::string path;     // the smallest input that kept the signature (== input when none did)
  Outcome outcome;      // its reproduction
  bool reduced = false;
  std::string note;     // why nothing smaller was kept, when so
};

// Minimizes `input` (whose reproduction is `original`) into `out_path` within `budget`.
Minimized minimize_crash(const FuzzTargetRun& t, const std::string& input, const Outcome& original,
                         const std::string& out_path, std::chrono::seconds budget, const RunContext& context);

// A stack overflow's guard page is hit wherever the recursion happens to be,
// so the core's state (the top three frames) rotates through the recursion's
// functions from one input to the next. For deduplication the state becomes
// the recursion itself: the functions that repeat on the stack, sorted
// (ClusterFuzz likewise treats stack overflows apart). No change when no
// function repeats among the first 64 frames.
void normalize_stack_overflow_state(Outcome& outcome);

// The shell command that reproduces the crash from its directory's files.
std::string crash_repro_command(const FuzzTargetRun& t, const std::string& input);

}  // namespace crashgate
