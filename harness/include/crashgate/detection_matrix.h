// The detection matrix (`crashgate matrix`): the catalog against the hardened
// engine and against each regression switch, as Magma measures fuzzers
// against re-inserted bugs. A regression is caught when some cell ends the way
// that bug shows (its `shows_as`, from the engine's own table, which the
// target's driver lists with `--list regressions`). Format of matrix.json:
// reports/matrix-schema.md.
#pragma once

#include "crashgate/matrix_file.h"
#include <cstdint>
#include <optional>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/cell_selection.h"
#include "crashgate/checked.h"
#include "crashgate/run_results.h"

namespace crashgate {


struct RegressionSwitch {
  std::string id;            // "unvalidated-header"
  std::string field_report;  // "000, 001"
  std::string what;
  std::string shows_as;      // "signal:SIGBUS@past-eof|asan:BUS"
  std::string target;        // the engine whose driver has it compiled in ("vstore"); injected only into its cells
};

// Whether `outcome` is one of `shows_as`'s alternatives: `kind[:detail][@attribution]`,
// detail being the signal name, the sanitizer check's first word, or the
// failed step's error code; attribution one of past-eof, stack-guard, null-page.
bool outcome_shows_as(const Outcome& outcome, std::string_view shows_as);
// The word a pattern's detail is compared with: the signal's name, the
// sanitizer check's first word, or the failed step's error code.
std::string outcome_detail(const Outcome& outcome);
// Why `shows_as` cannot be read, or "" when it can.
std::string shows_as_problem(std::string_view shows_as);

// How a cell takes part in the matrix.
enum class MatrixRole {
  hardened,  // a catalog cell with no switch on: must meet its expectation
  injected,  // a hardened scenario's cell run with a switch on: catches it when it fails the way the bug shows
  replay,    // a scenario written to reproduce one switch's bug (its `regression`): catches it when it passes
  // A crash-states scenario's cell recorded with a switch on, and recovery
  // checked from the states a power cut may leave at sampled crash points
  // (crash_check_run.h): catches it when a state's recovery fails the way the bug shows.
  crash_states,
};
std::string_view to_string(MatrixRole role);

struct MatrixOptions {
  std::string plain_build = "debug";  // a build without sanitizers with the switches compiled in
  unsigned sample = 0;                // at most this many injected cells per scenario, build and switch (0: all)
  std::uint64_t crash_points = 10;    // crash points a crash_states cell is checked at (0: every call of its phase)
};

struct MatrixCell {
  PlannedCell planned;
  MatrixRole role = MatrixRole::hardened;
};

// Builds the plan from the catalog's cells. Injected cells for switch R run a
// hardened scenario under the plain build, and under each sanitizer build the
// scenario names whose kind is among R's alternatives; their ids end "+R".
// A scenario whose [crash_states] lists R in its matrix_switches also gets
// each of its plain-build injected cells for R as a crash_states cell, id
// "...+R@crash-states".
// When `reaches` is given, R is injected only into the cells it says can reach
// R's code (before the sample is drawn).
using SwitchReach = std::function<bool(const PlannedCell& cell, const RegressionSwitch& r)>;
std::vector<MatrixCell> plan_detection_matrix(const std::vector<PlannedCell>& catalog,
                                              const std::vector<RegressionSwitch>& switches, const MatrixOptions& options,
                                              const SwitchReach& reaches = {});

// One switch's line of the matrix.
struct MatrixCatch {
  std::string cell;
  std::string scenario;
  std::string build;
  std::string kind;          // the outcome kind ("signal")
  std::string detail;        // "SIGBUS", "data-race", "wrong-result"
  std::int64_t ms = 0;       // time to detect: the cell's run time
};
// Whether the catalog caught a switch: some cell ended the way its bug shows
// (caught), cells failed but only in other ways (wrong-kind), or none failed
// (escaped). Only caught passes the matrix and the gate.
enum class RegressionStatus { caught, wrong_kind, escaped };
std::string_view to_string(RegressionStatus status);  // "caught", "wrong-kind", "escaped"
std::optional<RegressionStatus> parse_regression_status(std::string_view name);

struct MatrixRegression {
  RegressionSwitch info;
  RegressionStatus status = RegressionStatus::escaped;
  std::vector<MatrixCatch> caught_by;
  std::vector<MatrixCatch> other_failures;  // failed, but not the way this bug shows
  int cells = 0;
};
// matrix.json's model: `crashgate matrix` writes it, the gate and the HTML
// report read it back.
struct DetectionMatrix {
  std::string run_id;
  bool passed = false;       // "verdict": "pass" or "fail"
  std::vector<std::string> problems;  // why it fails, one a line
  int hardened_cells = 0;
  std::vector<std::string> hardened_failures;  // ids
  std::vector<MatrixRegression> regressions;
  std::vector<std::string> scenarios;          // every scenario name, catalog order
  MatrixOptions options;
  std::int64_t duration_ms = 0;
};

// Judges a finished run: `roles[i]` is cells[i]'s role.
DetectionMatrix judge_detection_matrix(const RunResults& results, const std::vector<MatrixRole>& roles,
                                       const std::vector<RegressionSwitch>& switches, const MatrixOptions& options);

// matrix.json (crashgate.matrix/1) and back. Reading checks the schema and
// the type of every field present; id and status are required of each
// regression, the rest may be absent (empty). A failure names the field.
nlohmann::json to_json(const DetectionMatrix& matrix);
Checked<DetectionMatrix> detection_matrix_from_json(const nlohmann::json& json);
// Reads the file; a failure names the path as well.
Checked<DetectionMatrix> load_detection_matrix(const std::string& path);
// What a person reads after a regression's status: "3 cells ran; none failed",
// or the first unrelated failure of a wrong-kind one.
std::string regression_detail(const MatrixRegression& regression);
// The Markdown table (regression x scenario): kind caught and time to detect.
std::string matrix_markdown(const DetectionMatrix& matrix);

}  // namespace crashgate
