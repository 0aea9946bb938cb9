// Verdicts: how a cell's outcome is judged against its scenario's [expect].
// One table drives the enum, the names in results.json, `crashgate run`'s
// summary and reports/results-schema.md.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/outcome.h"
#include "crashgate/scenario.h"

namespace crashgate {

// X(enumerator, name, meaning). Table order is the order summaries list them in.
#define CRASHGATE_VERDICTS(X)                                                                                \
  X(pass, "pass", "the outcome met the expectation")                                                         \
  X(flaky, "flaky", "failed, then met the expectation on a rerun (counts as met, and is listed)")            \
  X(fail, "fail", "the outcome did not meet the expectation, on the first run and every rerun")             \
  X(harness_error, "harness-error", "crashgate could not run the cell (a missing driver, ...); not the target's fault") \
  X(not_run, "not-run", "interrupted (Ctrl-C) before the cell finished")

enum class Verdict {
#define CRASHGATE_VERDICT_ENUM(id, name, meaning) id,
  CRASHGATE_VERDICTS(CRASHGATE_VERDICT_ENUM)
#undef CRASHGATE_VERDICT_ENUM
};

struct VerdictInfo {
  Verdict verdict;
  std::string_view name;
  std::string_view meaning;
};

std::span<const VerdictInfo> verdicts();  // every verdict, in table order
std::string_view to_string(Verdict verdict);
std::optional<Verdict> parse_verdict(std::string_view name);
// pass and flaky: the cell met its expectation.
bool met(Verdict verdict);

struct Judgement {
  Verdict verdict = Verdict::fail;
  std::vector<std::string> unmet;  // one line per expectation the outcome missed: "signal: expected SIGBUS, got SIGSEGV"
};

// Judges one run of a cell: pass, fail, or harness-error (crashgate's own
// failure is never held against the target, unless the scenario expects it).
Judgement judge(const Expectation& expect, const Outcome& outcome);

// "error corrupt", "signal SIGBUS at step 2", "asan heap-buffer-overflow, message containing 'x'".
std::string expectation_text(const Expectation& expect);
// What judge() compares, in the same words: "signal SIGBUS at step 2".
std::string outcome_text(const Outcome& outcome);

}  // namespace crashgate
