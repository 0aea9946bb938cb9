// The crashgate command line. Exit codes: the outcome kinds' (outcome_kind.h)
// for `exec`; 0/1 for checks; 2 for usage errors; 130 after Ctrl-C.
#pragma once

namespace crashgate {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;
inline constexpr int kExitCheckFailed = 1;

int crashgate_main(int argc, char** argv);

}  // namespace crashgate
