// summary.md: what a PR comment or $GITHUB_STEP_SUMMARY shows. The verdict
// first, then new failures (one-line diagnosis, signature, repro command),
// new signatures, escaped regressions, then fixed, flaky and known. Bounded:
// however many cells fail, it stays under `max_bytes`, ending lists with
// "... and N more" and a pointer to report.html and results.json.
#pragma once

#include <cstddef>
#include <string>

#include "crashgate/checked.h"
#include "crashgate/gate_decision.h"
#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kSummaryFile = "summary.md";
// GitHub refuses comments over 65,536 characters; this leaves room for a header.
inline constexpr std::size_t kSummaryMaxBytes = 60'000;

struct SummaryMarkdownOptions {
  std::string title = "crashgate";  // "crashgate gate", "crashgate run"
  std::string baseline_path;        // shown when the decision had a baseline
  std::string run_dir;              // where results.json and report.html are, as shown
  std::size_t max_bytes = kSummaryMaxBytes;
};

std::string summary_markdown(const RunResults& results, const GateDecision& decision,
                             const SummaryMarkdownOptions& options = {});

// Writes RUN_DIR/summary.md atomically; the failure names the file and why.
CheckedDone write_summary_markdown(const std::string& run_dir, const std::string& text);

}  // namespace crashgate
