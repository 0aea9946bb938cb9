// The reports a run leaves beside its results.json, each made from the results
// alone: junit.xml (CI test tabs), results.sarif (code scanning, SARIF 2.1.0)
// and report.html (one self-contained page). Mappings: reports/report-formats.md.
#pragma once

#include "crashgate/detection_matrix.h"
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kJunitFile = "junit.xml";
inline constexpr const char* kSarifFile = "results.sarif";
inline constexpr const char* kHtmlFile = "report.html";

// What the reports use besides the results; the writers never touch the file system.
struct ReportInputs {
  std::string source_root;                          // project frames lie below it; SARIF and HTML paths are relative to it
  std::map<std::string, std::string> field_reports;  // a cell's origin -> the start of that file (HTML)
  std::optional<DetectionMatrix> matrix;            // the run's matrix.json (crashgate.matrix/1), when it has one
  std::string matrix_problem;                       // why a matrix.json that exists could not be used
};

// Each returns the whole file. Text from the results is escaped for its format;
// invalid UTF-8 becomes U+FFFD and control characters \xNN.
std::string write_junit(const RunResults& results);
std::string write_sarif(const RunResults& results, const ReportInputs& inputs = {});
std::string write_html(const RunResults& results, const ReportInputs& inputs = {});

struct ReportOptions {
  std::string run_dir;                          // where matrix.json is looked for (default: the output directory)
  std::string source_root;                      // default: the directory holding results.build_root, else the working directory
  std::vector<std::string> field_report_dirs;   // searched for a cell's origin by file name, after <source_root>/<origin>
                                                // (which is read only when it lies in the source root's docs/field-reports/)
};

// Reads what the writers need besides the results: the source root, field report
// excerpts (each origin that a readable file answers), matrix.json.
ReportInputs gather_report_inputs(const RunResults& results, const ReportOptions& options);

// Writes every report into `out_dir`, each atomically (a temporary, then rename):
// a reader sees the old file or the new one, never half of one. The failure
// names the file and why; the files not yet written are skipped.
CheckedDone write_run_reports(const std::string& out_dir, const RunResults& results, const ReportOptions& options);

}  // namespace crashgate
