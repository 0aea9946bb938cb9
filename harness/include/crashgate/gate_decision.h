// The gate's decision: each cell of a run classified against a baseline and
// the known issues, and whether the run may merge. Pure: the reruns that turn
// a failure flaky happen before (crashgate gate), and the summary is written
// from the result (summary_markdown.h).
//
//   new      failed, and either its crash signature is in neither the baseline
//            nor the known issues, or it did not fail in the baseline (passed,
//            or was not there) and matches no known issue.        Blocks.
//   escaped  a regression switch the catalog did not catch (matrix.json). Blocks.
//   flaky    failed, then passed a rerun, and did not crash (signal,
//            sanitizer report, stack overflow) with a new signature: a new
//            crash is new, however the reruns went, since a race shows itself
//            once in N runs.                       Blocks only with --strict.
//   known    failed as the baseline recorded, or with a known issue's crash,
//            and with no new signature.                       Does not block.
//   fixed    failed in the baseline, passes now.                    Good news.
// A cell that did not finish (harness-error, not-run) counts as a failure:
// the gate cannot call what it could not see safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "crashgate/baseline.h"
#include "crashgate/detection_matrix.h"
#include "crashgate/run_results.h"
#include "crashgate/triage.h"

namespace crashgate {

enum class GateClass { new_failure, flaky, known, fixed };

struct GateCell {
  std::size_t index = 0;        // into RunResults::cells
  GateClass klass = GateClass::new_failure;
  std::string why;              // "passed in the baseline", "new crash signature", "known issue VS-12: ..."
  std::string signature;        // of the failing attempt; "" when it did not crash
  bool new_signature = false;
};

// A crash signature that neither the baseline nor the known issues hold.
struct NewSignature {
  std::string signature;
  std::string crash_state;
  std::vector<std::size_t> cells;  // indexes of the cells that crashed with it
};

struct GateOptions {
  const Baseline* baseline = nullptr;        // nullptr: no baseline, every failure is new
  const KnownIssues* known_issues = nullptr; // nullptr: the known_issue each outcome recorded when it ran
  std::vector<MatrixRegression> regressions; // from matrix.json, when there is one
  bool strict = false;                       // flaky cells block too
};

struct GateDecision {
  std::vector<GateCell> new_failures, flaky, known, fixed;  // each in run order
  std::vector<NewSignature> new_signatures;                 // in order of first appearance
  std::vector<BaselineSignature> fixed_signatures;          // baseline signatures whose cells all ran and none crashed so
  std::vector<MatrixRegression> escaped;  // every status but caught
  bool has_baseline = false;
  bool strict = false;
  std::size_t baseline_cells_missing = 0;  // in the baseline, not in this run (a narrower selection, a shard)
  std::size_t cells = 0;
  std::size_t passed = 0;                  // met their expectation without a rerun

  bool blocks() const { return !new_failures.empty() || !escaped.empty() || (strict && !flaky.empty()); }
  // "3 new failures, 1 escaped regression" or "no new failures"
  std::string headline() const;
};

GateDecision decide_gate(const RunResults& results, const GateOptions& options);

// The failing attempt the gate reads (the first), or nullptr for a cell that never ran.
const Attempt* failing_attempt(const CellResult& cell);

}  // namespace crashgate
