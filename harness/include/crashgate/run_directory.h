// Where a run's files go: REPORTS/<run-id>/ (results.json, cells/<i>/attempt-<k>/)
// and REPORTS/latest, a symlink to the newest run. REPORTS is build/reports
// unless --out says otherwise.
#pragma once

#include <optional>
#include <string>

#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kResultsFile = "results.json";
inline constexpr const char* kLatestRun = "latest";

struct RunDirectory {
  std::string id;    // "20250611T051130Z", or "...Z-2" when that second is taken
  std::string path;  // REPORTS/<id>
};

// Creates a new, empty run directory named after the current UTC time.
std::optional<RunDirectory> create_run_directory(const std::string& reports_dir, std::string& error);

// Writes `text` to `path` atomically: a temporary file beside it, then a
// rename, so a reader never sees half a file. `error` names the file and why.
bool write_file_atomically(const std::string& path, const std::string& text, std::string& error);

// Writes RUN_DIR/results.json atomically (a reader never sees half a file).
bool write_results(const RunResults& results, const std::string& run_dir, std::string& error);

// Points REPORTS/latest at RUN_ID (replacing the link atomically).
bool point_latest(const std::string& reports_dir, const std::string& run_id, std::string& error);

// Reads a run's results from a run directory or a results.json path.
std::optional<RunResults> load_results(const std::string& run_dir_or_file, std::string& error);

// `path` relative to the working directory when it lies below it (what a person
// would type), else as given.
std::string display_path(const std::string& path);

}  // namespace crashgate
