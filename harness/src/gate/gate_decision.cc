#include "crashgate/gate_decision.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace crashgate {
namespace {

std::string plural(std::size_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// A crash, as against a clean error, an exit status or a timeout: a signal, a
// sanitizer's report, a stack overflow.
bool crashed(const Attempt* attempt) {
  if (!attempt) return false;
  switch (attempt->outcome.kind) {
    case OutcomeKind::signal:
    case OutcomeKind::stack_overflow:
    case OutcomeKind::asan:
    case OutcomeKind::ubsan:
    case OutcomeKind::tsan:
    case OutcomeKind::lsan: return true;
    default: return false;
  }
}

std::optional<KnownIssueMatch> known_match(const Outcome& o, const std::string& cell_id, const KnownIssues* known) {
  if (known) return o.signature.empty() && o.crash_state.empty() ? std::nullopt : known->match(o, cell_id);
  return o.known_issue;
}

}  // namespace

const Attempt* failing_attempt(const CellResult& cell) {
  return cell.attempts.empty() ? nullptr : &cell.attempts.front();
}

std::string GateDecision::headline() const {
  std::vector<std::string> parts;
  if (!new_failures.empty()) parts.push_back(plural(new_failures.size(), "new failure", "new failures"));
  if (!escaped.empty()) parts.push_back(plural(escaped.size(), "escaped regression", "escaped regressions"));
  if (!flaky.empty()) parts.push_back(plural(flaky.size(), "flaky cell", "flaky cells") + (strict ? " (--strict)" : ""));
  if (!known.empty()) parts.push_back(plural(known.size(), "known failure", "known failures"));
  if (!fixed.empty()) parts.push_back(plural(fixed.size(), "fixed", "fixed"));
  if (parts.empty()) return "no new failures";
  if (new_failures.empty() && escaped.empty()) parts.insert(parts.begin(), "no new failures");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

GateDecision decide_gate(const RunResults& results, const GateOptions& options) {
  GateDecision d;
  d.has_baseline = options.baseline != nullptr;
  d.strict = options.strict;
  d.cells = results.cells.size();
  const Baseline* base = options.baseline;
  std::map<std::string, std::size_t> new_signature_at;  // signature -> index into d.new_signatures
  std::set<std::string> crashed_now;                    // signatures of this run's failures
  std::set<std::string> ids_now;

  for (std::size_t i = 0; i < results.cells.size(); ++i) {
    const CellResult& cell = results.cells[i];
    ids_now.insert(cell.cell.id);
    const BaselineCell* before = base ? base->find(cell.cell.id) : nullptr;
    bool failed_before = before && !met(before->verdict);
    if (cell.verdict == Verdict::pass) {
      ++d.passed;
      if (failed_before) d.fixed.push_back({i, GateClass::fixed, fmt::format("{} in the baseline", to_string(before->verdict)), "", false});
      continue;
    }
    const Attempt* attempt = failing_attempt(cell);
    std::string signature = attempt ? attempt->outcome.signature : "";
    if (!signature.empty()) crashed_now.insert(signature);
    auto issue = attempt ? known_match(attempt->outcome, cell.cell.id, options.known_issues) : std::nullopt;
    bool new_signature = !signature.empty() && !(base && base->holds_signature(signature)) && !issue;
    std::string passed_rerun;
    if (cell.verdict == Verdict::flaky) {
      std::size_t passed_at = 1;
      while (passed_at < cell.attempts.size() && cell.attempts[passed_at].verdict != Verdict::pass) ++passed_at;
      passed_rerun = fmt::format("passed rerun {}", passed_at);
      // A race shows itself once in N runs: a crash nobody has seen before
      // blocks however its reruns went. Flaky is for known crashes and for
      // failures that are not crashes (a clean error, an exit, a timeout).
      if (!new_signature || !crashed(attempt)) {
        d.flaky.push_back({i, GateClass::flaky, "failed, then " + passed_rerun, signature, false});
        continue;
      }
    }
    GateCell g{i, GateClass::new_failure, "", signature, new_signature};
    if (new_signature) {
      g.why = passed_rerun.empty() ? "new crash signature"
                                   : fmt::format("new crash signature ({}, but a crash never seen before is not flaky)", passed_rerun);
      auto [it, inserted] = new_signature_at.emplace(signature, d.new_signatures.size());
      if (inserted) d.new_signatures.push_back({signature, attempt->outcome.crash_state, {}});
      d.new_signatures[it->second].cells.push_back(i);
    } else if (failed_before) {
      g.klass = GateClass::known;
      g.why = fmt::format("{} in the baseline too", to_string(before->verdict));
    } else if (issue) {
      g.klass = GateClass::known;
      g.why = fmt::format("known issue {}: {}", issue->id, issue->title);
    } else if (cell.verdict == Verdict::not_run) {
      g.why = "did not finish (interrupted)";
    } else if (!base) {
      g.why = "no baseline";
    } else {
      g.why = before ? "passed in the baseline" : "not in the baseline";
    }
    (g.klass == GateClass::known ? d.known : d.new_failures).push_back(std::move(g));
  }

  if (base) {
    for (const auto& c : base->cells)
      if (!ids_now.count(c.id)) ++d.baseline_cells_missing;
    for (const auto& s : base->signatures) {
      bool all_ran = !s.cells.empty();
      for (const auto& id : s.cells) all_ran = all_ran && ids_now.count(id);
      if (all_ran && !crashed_now.count(s.signature)) d.fixed_signatures.push_back(s);
    }
  }
  for (const auto& r : options.regressions)
    if (r.status != RegressionStatus::caught) d.escaped.push_back(r);
  return d;
}

}  // namespace crashgate
