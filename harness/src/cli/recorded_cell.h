// A cell of an earlier run, as `show` and `repro` look it up: by exact id, or
// by a glob matching exactly one id, in --run DIR (default: the latest run).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "crashgate/run_results.h"

namespace crashgate {

struct RecordedCell {
  RunResults results;
  std::string run_dir;   // where results.json was read (the run may have been moved since)
  std::size_t index = 0; // into results.cells
  const CellResult& cell() const { return results.cells[index]; }
};

// The default --run: BUILD_ROOT/reports/latest.
std::string latest_run_dir();

// Prints why to stderr (naming close matches) and returns nothing when the cell is not there.
std::optional<RecordedCell> find_recorded_cell(const std::string& cell, const std::string& run_option,
                                               const char* command);

}  // namespace crashgate
