// `crashgate fuzz --promote CRASH_DIR`: a fixed crash becomes a regression
// input. The crash directory's minimized input is copied to
// corpora/<target>/regressions/<signature>, which every build's test suite
// replays (`ctest -L fuzz-corpus`) from then on.
#pragma once

#include <string>

#include "crashgate/checked.h"

namespace crashgate {

struct Promotion {
  std::string target;
  std::string signature;
  std::string destination;
  bool already_there = false;  // the same bytes were already promoted
};

// The failure says what was wrong (no crash.json, a target corpora_dir does
// not know, an input missing, a name taken by other bytes).
Checked<Promotion> promote_crash(const std::string& crash_dir, const std::string& corpora_dir);

}  // namespace crashgate
