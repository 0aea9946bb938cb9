// Recording footprints (change_selection.h): one cell per footprint key run in
// the coverage build, its profiles merged with llvm-profdata and read with
// `llvm-cov export -summary-only`; the files it executed are its footprint.
// `crashgate footprints` (cli/footprints_command.cc) drives it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/change_selection.h"
#include "crashgate/checked.h"
#include "crashgate/runner.h"

namespace crashgate {

// The repository files an `llvm-cov export -summary-only` document shows with
// at least one covered line, relative to `source_root`, sorted. Files outside
// the source root (system and third-party headers) and under `build_root`
// (generated sources; "" for none) are left out. The failure says what is
// wrong with the document.
Checked<std::vector<std::string>> covered_repository_files(std::string_view export_json, const std::string& source_root,
                                                           const std::string& build_root = "");

// The footprints file's form of `files_by_key` (footprint_key -> files): one
// table of files, sorted, and each distinct set of them once.
Footprints make_footprints(std::string recorded_at, const std::map<std::string, std::vector<std::string>>& files_by_key);

struct FootprintTools {
  std::string profdata;  // llvm-profdata
  std::string cov;       // llvm-cov
};

// llvm-profdata and llvm-cov (fuzz/coverage_report.h finds them); the failure says how to install them.
Checked<FootprintTools> find_footprint_tools();

// What one cell's profiles came to: the files (nothing when the cell wrote no
// profile: it crashed or was killed before its driver exited), or the failure
// of llvm-profdata or llvm-cov.
struct CellFootprint {
  bool profiled = false;
  std::vector<std::string> files;
};

// Merges the *.profraw files in `profile_dir` into profile_dir/cell.profdata
// (profiles a killed process left half-written are skipped) and exports the
// coverage of `driver` from it.
Checked<CellFootprint> cell_footprint(const FootprintTools& tools, const std::string& profile_dir,
                                      const std::string& driver, const std::string& source_root,
                                      const std::string& build_root, const RunContext& context = {});

}  // namespace crashgate
