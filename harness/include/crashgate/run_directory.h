// Where a run's files go: REPORTS/<run-id>/ (results.json, cells/<i>/attempt-<k>/)
// and REPORTS/latest, a symlink to the newest run. REPORTS is build/reports
// unless --out says otherwise.
#pragma once

#include <string>

#include "crashgate/checked.h"
#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kResultsFile = "results.json";
inline constexpr const char* kLatestRun = "latest";

struct RunDirectory {
  std::string id;    // "20250611T051130Z", or "...Z-2" when that second is taken
  std::string path;  // REPORTS/<id>
};

// Creates a new, empty run directory named after the current UTC time; the
// failure names the directory that could not be created and why.
Checked<RunDirectory> create_run_directory(const std::string& reports_dir);

// Writes `text` to `path` atomically: a temporary file beside it, then a
// rename, so a reader never sees half a file. The failure names the file and why.
CheckedDone write_file_atomically(const std::string& path, const std::string& text);

// Writes RUN_DIR/results.json atomically (a reader never sees half a file);
// the failure names the file and why.
CheckedDone write_results(const RunResults& results, const std::string& run_dir);

// Points REPORTS/latest at RUN_ID (replacing the link atomically); the failure
// names the link, the run and why.
CheckedDone point_latest(const std::string& reports_dir, const std::string& run_id);

// Reads a run's results from a run directory or a results.json path; the
// failure names the file and what is wrong with it.
Checked<RunResults> load_results(const std::string& run_dir_or_file);

// `path` relative to the working directory when it lies below it (what a person
// would type), else as given.
std::string display_path(const std::string& path);

}  // namespace crashgate
