// The crashgate command line. Exit codes: the outcome kinds' (outcome_kind.h)
// for `exec`; for `run` (and `repro`): 0 every cell met its expectation, 1 a
// cell failed, 3 crashgate could not run a cell; 0/1 for checks; 2 for usage
// and scenario errors; 130 after Ctrl-C.
#pragma once

namespace crashgate {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitCellsFailed = 1;
inline constexpr int kExitHarnessError = 3;

int crashgate_main(int argc, char** argv);

}  // namespace crashgate
