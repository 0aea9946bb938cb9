// Judging an outcome against an expectation. Every expectation a scenario
// states must hold; each one that does not becomes a line of `unmet`, so a
// failing cell says exactly what differed.
#include <algorithm>
#include "crashgate/verdict.h"

#include <fmt/format.h>

#include <array>

namespace crashgate {
namespace {

constexpr std::array kVerdicts = {
#define CRASHGATE_VERDICT_INFO(id, name, meaning) VerdictInfo{Verdict::id, name, meaning},
    CRASHGATE_VERDICTS(CRASHGATE_VERDICT_INFO)
#undef CRASHGATE_VERDICT_INFO
};

// The code of the step that ended in error ("" when none did).
std::string failed_step_code(const Outcome& o) {
  if (!o.failed_step) return "";
  for (const auto& step : o.steps)
    if (step.index == *o.failed_step && step.status == StepStatus::error) return step.code;
  return "";
}

// "heap-buffer-overflow" matches "heap-buffer-overflow READ 4": the access is
// left out of expectations because its size depends on the type read.
bool check_matches(std::string_view expected, std::string_view actual) {
  if (actual.substr(0, expected.size()) != expected) return false;
  return actual.size() == expected.size() || actual[expected.size()] == ' ';
}

std::string or_none(const std::string& text) { return text.empty() ? "none" : text; }

}  // namespace

std::span<const VerdictInfo> verdicts() { return kVerdicts; }

std::string_view to_string(Verdict verdict) { return kVerdicts[static_cast<std::size_t>(verdict)].name; }

std::optional<Verdict> parse_verdict(std::string_view name) {
  for (const auto& info : kVerdicts)
    if (info.name == name) return info.verdict;
  return std::nullopt;
}

bool met(Verdict verdict) { return verdict == Verdict::pass || verdict == Verdict::flaky; }

Judgement judge(const Expectation& expect, const Outcome& o) {
  Judgement j;
  // "ok|error": any of the alternatives (a damaged store may be refused or read, never crash on).
  const OutcomeKinds& expected_kinds = expect.outcome;
  auto expects = [&](OutcomeKind k) { return std::find(expected_kinds.begin(), expected_kinds.end(), k) != expected_kinds.end(); };
  if (o.kind == OutcomeKind::harness_error && !expects(OutcomeKind::harness_error)) {
    j.verdict = Verdict::harness_error;
    j.unmet.push_back("crashgate could not run the cell: " + o.detail);
    return j;
  }
  if (!expects(o.kind))
    j.unmet.push_back(fmt::format("outcome: expected {}, got {} ({})", to_string(expect.outcome), to_string(o.kind), o.detail));
  // The code is about the error alternative: an expected ok needs none.
  if (!expect.code.empty() && (o.kind == OutcomeKind::error || expected_kinds.size() == 1) && failed_step_code(o) != expect.code)
    j.unmet.push_back(fmt::format("code: expected {}, got {}", expect.code, or_none(failed_step_code(o))));
  if (!expect.signal.empty()) {
    auto wanted = parse_signal_name(expect.signal);
    if (!o.signal || wanted != o.signal)
      j.unmet.push_back(fmt::format("signal: expected {}, got {}", expect.signal, o.signal ? signal_name(*o.signal) : "none"));
  }
  if (!expect.check.empty() && !check_matches(expect.check, o.check))
    j.unmet.push_back(fmt::format("check: expected {}, got {}", expect.check, or_none(o.check)));
  if (expect.step && o.failed_step != expect.step)
    j.unmet.push_back(fmt::format("step: expected step {} to fail, got {}", *expect.step,
                                  o.failed_step ? fmt::format("step {}", *o.failed_step) : "no failed step"));
  if (!expect.message.empty() && o.detail.find(expect.message) == std::string::npos)
    j.unmet.push_back(fmt::format("message: expected the detail to contain '{}', got '{}'", expect.message, o.detail));
  j.verdict = j.unmet.empty() ? Verdict::pass : Verdict::fail;
  return j;
}

std::string expectation_text(const Expectation& e) {
  std::string out = to_string(e.outcome);
  for (const auto* part : {&e.code, &e.signal, &e.check})
    if (!part->empty()) out += " " + *part;
  if (e.step) out += fmt::format(" at step {}", *e.step);
  if (!e.message.empty()) out += fmt::format(", message containing '{}'", e.message);
  return out;
}

std::string outcome_text(const Outcome& o) {
  std::string out(to_string(o.kind));
  if (auto code = failed_step_code(o); !code.empty()) out += " " + code;
  if (o.signal) out += " " + signal_name(*o.signal);
  if (!o.check.empty()) out += " " + o.check;
  if (o.failed_step) out += fmt::format(" at step {}", *o.failed_step);
  return out;
}

}  // namespace crashgate
