// Sanitizer reports and libFuzzer's own errors in a field log: the runner's
// parser (sanitizer_report.h) and its choice of report, so a log parsed here
// gives the kind, check and stacks the runner would have given the same stderr.
#include <signal.h>

#include <fmt/format.h>

#include "crashgate/sanitizer_report.h"
#include "field/formats.h"

namespace crashgate::field {
namespace {

std::size_t headline_line(const Log& log, const SanitizerReport& report) {
  auto at = log.text.find(report.headline);
  return at == std::string::npos ? 0 : log.line_at(at);
}

// libFuzzer's "deadly signal" does not name the signal. The log may: a shell's
// line after it ("Aborted (core dumped)"), or the stack passing through abort().
std::optional<int> deadly_signal_named(const Log& log, std::size_t from, const SanitizerReport& report) {
  for (std::size_t i = from; i < log.lines.size(); ++i)
    if (auto signo = shell_death_signal(log.lines[i].text)) return signo;
  for (const auto& stack : report.stacks)
    for (const auto& frame : stack.frames)
      if (frame.function == "abort" || frame.function == "__GI_abort") return SIGABRT;
  return std::nullopt;
}

// The runner's parser opens a UBSan report at any ": runtime error: ". In a
// field log that may be Go's "panic: runtime error: ..."; a UBSan report has a
// source location, a stack or a SUMMARY line.
std::vector<SanitizerReport> reports_in(const Log& log) {
  auto reports = parse_sanitizer_reports(log.text);
  std::erase_if(reports, [](const SanitizerReport& r) {
    return r.tool == "UndefinedBehaviorSanitizer" && r.stacks.empty() && r.summary.empty();
  });
  return reports;
}

}  // namespace

std::vector<std::size_t> detect_sanitizer(const Log& log) {
  auto reports = reports_in(log);
  const SanitizerReport* primary = primary_sanitizer_report(reports);
  if (!primary) return {};
  return {headline_line(log, *primary)};
}

Checked<Outcome> parse_sanitizer(const Log& log, std::size_t start) {
  auto reports = reports_in(log);
  const SanitizerReport* report = primary_sanitizer_report(reports);
  if (!report) return malformed(log, start, "no sanitizer report here");
  Outcome o;
  o.kind = report->kind;
  o.check = report->check_with_access();
  o.sanitizer_summary = report->summary;
  o.threads = report->stacks;
  o.crashing_thread = o.threads.empty() ? -1 : 0;
  if (report->signal) o.signal = report->signal;
  if (report->address && report->kind != OutcomeKind::tsan) o.fault_address = report->address;
  if (report->tool == "libFuzzer" && report->kind == OutcomeKind::signal && !o.signal)
    if (auto signo = deadly_signal_named(log, start, *report)) o.signal = signo;
  o.detail = fmt::format("{}: {}", report->tool, o.check);
  if (o.kind == OutcomeKind::signal && o.signal) {
    std::string where = o.fault_address && (*o.signal == SIGSEGV || *o.signal == SIGBUS)
                            ? fmt::format(" at 0x{:x}", *o.fault_address)
                            : "";
    o.detail = signal_name(*o.signal) + where + " (reported by " + report->tool + ")";
  }
  if (reports.size() > 1)
    o.notes.push_back(fmt::format("{} sanitizer reports; the outcome is from the {}", reports.size(),
                                  report == &reports.front() ? "first" : "deadly one"));
  return o;
}

}  // namespace crashgate::field
