// Recording footprints (change_selection.h): one cell per footprint key run in
// the coverage build, its profiles merged with llvm-profdata and read with
// `llvm-cov export`; the functions it executed are its footprint.
// `crashgate footprints` (cli/footprints_command.cc) drives it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/change_selection.h"
#include "crashgate/checked.h"
#include "crashgate/runner.h"

namespace crashgate {

// A function of a repository file in an `llvm-cov export` document.
struct CoveredFunction {
  std::string file;  // relative to the source root
  std::uint32_t first = 0, last = 0;
  std::string name;  // short_function_name() of its symbol
  bool executed = false;
  friend bool operator==(const CoveredFunction&, const CoveredFunction&) = default;
};

// The functions an `llvm-cov export` document (not -summary-only) maps in
// repository files, relative to `source_root`, sorted by (file, first, last),
// each range once (a template's instantiations share one; it is executed when
// any of them ran). Its lines are those of its own file's regions. Files
// outside the source root (system and third-party headers) and under
// `build_root` (generated sources; "" for none) are left out. The failure says
// what is wrong with the document.
Checked<std::vector<CoveredFunction>> repository_functions(std::string_view export_json, const std::string& source_root,
                                                           const std::string& build_root = "");

// A symbol as a reader would name the function: demangled, the source file
// prefix of a local symbol dropped, template and call arguments elided
// ("_ZN6vstore5Store3getEm" -> "vstore::Store::get()"); at most 160 characters.
std::string short_function_name(std::string_view symbol);

// The footprints file's form of `functions_by_key` (footprint_key -> the
// functions its cell's driver maps): one table of files and one of functions,
// sorted, and each distinct set of executed functions once.
Footprints make_footprints(std::string recorded_at,
                           const std::map<std::string, std::vector<CoveredFunction>>& functions_by_key);

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
  std::vector<CoveredFunction> functions;
};

// Merges the *.profraw files in `profile_dir` into profile_dir/cell.profdata
// (profiles a killed process left half-written are skipped) and exports the
// coverage of `driver` from it.
Checked<CellFootprint> cell_footprint(const FootprintTools& tools, const std::string& profile_dir,
                                      const std::string& driver, const std::string& source_root,
                                      const std::string& build_root, const RunContext& context = {});

}  // namespace crashgate
