// classify(): from what the runner saw to the Outcome's kind and explanation.
// Order matters: crashgate's own failures, then timeouts, then sanitizer
// reports (the runtime's own diagnosis), then signals, then exit statuses.
#include <signal.h>

#include <array>
#include <fmt/format.h>

#include "crashgate/limits.h"
#include "crashgate/observation.h"
#include "crashgate/sanitizer_report.h"
#include "crashgate/triage.h"

namespace crashgate {
namespace {

// Words a failing process prints when an allocation failed (RLIMIT_AS, no memory).
constexpr std::array<std::string_view, 5> kOutOfMemoryWords = {
    "std::bad_alloc", "out of memory", "Out of memory", "Cannot allocate memory", "memory exhausted"};

bool mentions_out_of_memory(const Observation& obs) {
  std::string text = obs.stderr_excerpt.text();
  for (auto words : kOutOfMemoryWords)
    if (text.find(words) != std::string::npos) return true;
  return false;
}

const SignalCapture* capture_for(const Observation& obs, std::int64_t pid, int signo, bool unhandled_only) {
  const SignalCapture* found = nullptr;
  for (const auto& c : obs.signals)
    if (c.pid == pid && (signo == 0 || c.signo == signo) && (!unhandled_only || !c.handled_by_program)) found = &c;
  return found;
}

// The kernel forces SIGSEGV (SI_KERNEL, no address) when it cannot run the
// program's SIGSEGV handler, as when the stack that overflowed is the one the
// handler would run on (a sanitizer without an alternate signal stack, TSan's
// default). The fault itself is the same thread's SIGSEGV just before, which
// the program's handler was to take: its address says what happened.
const SignalCapture* fault_behind_forced_signal(const Observation& obs, const SignalCapture& forced) {
  if (forced.signo != SIGSEGV || forced.si_code != SI_KERNEL) return nullptr;
  const SignalCapture* earlier = nullptr;
  for (const auto& c : obs.signals) {
    if (&c == &forced) break;
    if (c.tid == forced.tid && c.signo == SIGSEGV && c.si_code != SI_KERNEL && c.handled_by_program && c.attribution)
      earlier = &c;
  }
  return earlier;
}

void take_signal_capture(Outcome& o, const SignalCapture& c) {
  o.signal = c.signo;
  o.si_code = c.si_code;
  if (c.address || c.signo == SIGSEGV || c.signo == SIGBUS) o.fault_address = c.address;
  if (c.attribution) o.attribution = c.attribution;
  o.crashed_pid = c.pid;
  o.diagnosis_ms = c.diagnosis_ms;
  if (!c.threads.empty()) {
    o.threads = c.threads;
    o.crashing_thread = c.crashing_thread;
  }
  for (const auto& note : c.notes) o.notes.push_back(note);
}

void mark_failed_step(Outcome& o) {
  for (const auto& step : o.steps)
    if (step.status == StepStatus::died || step.status == StepStatus::error) {
      o.failed_step = step.index;
      return;
    }
}

std::string step_suffix(const Outcome& o) {
  if (!o.failed_step) return "";
  for (const auto& step : o.steps)
    if (step.index == *o.failed_step) return fmt::format(", in step {} ({})", step.index, step.op);
  return "";
}

}  // namespace

Outcome classify(const Observation& obs) {
  Outcome o;
  o.command = obs.argv;
  o.duration_ms = obs.duration_ms;
  o.peak_rss_kb = obs.peak_rss_kb;
  o.stdout_excerpt = obs.stdout_excerpt;
  o.stderr_excerpt = obs.stderr_excerpt;
  o.steps = obs.steps;
  o.engine = obs.engine;
  o.notes = obs.notes;
  mark_failed_step(o);
  const std::int64_t main_pid = obs.main_pid;
  if (!obs.harness_error.empty()) {
    o.kind = OutcomeKind::harness_error;
    o.detail = obs.harness_error;
    return o;
  }
  if (obs.cancelled) {
    o.kind = OutcomeKind::harness_error;
    o.detail = "interrupted: crashgate was asked to stop before the command finished";
    return o;
  }
  if (obs.exited && obs.term_signal == 0) o.exit_code = obs.exit_status;

  if (obs.timed_out) {
    o.kind = OutcomeKind::timeout;
    o.detail = fmt::format("still running when the wall-clock limit ran out; stopped with SIGTERM{}",
                           obs.killed_by_harness ? ", then SIGKILL" : "");
    o.threads = obs.hang_threads;
    if (!o.threads.empty()) o.crashing_thread = 0;  // the main thread comes first in /proc order
    o.detail += step_suffix(o);
    return o;
  }

  auto reports = parse_sanitizer_reports(obs.stderr_excerpt.text());
  if (const SanitizerReport* report = primary_sanitizer_report(reports)) {
    o.kind = report->kind;
    o.check = report->check_with_access();
    o.sanitizer_summary = report->summary;
    o.threads = report->stacks;
    o.crashing_thread = o.threads.empty() ? -1 : 0;
    if (report->signal) o.signal = report->signal;
    if (report->address && report->kind != OutcomeKind::tsan) o.fault_address = report->address;
    // The sanitizer's handler ran in-process; crashgate's snapshot from the
    // signal's delivery adds what the report cannot say: file and offset.
    for (const auto& c : obs.signals)
      if (c.handled_by_program && report->signal && c.signo == *report->signal) {
        o.si_code = c.si_code;
        o.fault_address = c.address;
        o.crashed_pid = c.pid;
        if (c.attribution) o.attribution = c.attribution;
        break;
      }
    if (o.attribution && o.attribution->stack_guard) o.kind = OutcomeKind::stack_overflow;
    o.detail = fmt::format("{}: {}", report->tool, o.check);
    if (o.kind == OutcomeKind::signal && o.signal) o.detail = signal_detail(o) + " (reported by " + report->tool + ")";
    if (reports.size() > 1) o.notes.push_back(fmt::format("{} sanitizer reports; the outcome is from the {}",
                                                          reports.size(), report == &reports.front() ? "first" : "deadly one"));
    o.detail += step_suffix(o);
    return o;
  }

  if (obs.exited && obs.term_signal != 0) {
    int sig = obs.term_signal;
    o.signal = sig;
    const SignalCapture* c = capture_for(obs, main_pid, sig, true);
    if (!c) c = capture_for(obs, main_pid, sig, false);
    if (c) take_signal_capture(o, *c);
    if (const SignalCapture* fault = c ? fault_behind_forced_signal(obs, *c) : nullptr) {
      o.si_code = fault->si_code;
      o.fault_address = fault->address;
      o.attribution = fault->attribution;
      o.notes.push_back(fmt::format("the kernel forced this SIGSEGV (SI_KERNEL): the program's handler could not run after the "
                                    "fault at 0x{:x}, which is the one explained", fault->address));
    }
    if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size()) &&
        handled_as_stack_overflow(o, o.threads[o.crashing_thread])) {
      // Rust's handler took the guard-page fault and aborted: that fault,
      // caught at its delivery, says which thread and which stack.
      const Thread& t = o.threads[o.crashing_thread];
      for (const auto& fault : obs.signals)
        if (fault.tid == t.tid && fault.handled_by_program && fault.attribution && fault.attribution->stack_guard) {
          o.attribution = fault.attribution;
          o.notes.push_back(fmt::format("the program's handler caught the fault at 0x{:x} in thread {}'s guard page and "
                                        "aborted", fault.address, t.tid));
        }
      mark_handled_stack_overflow(o, t);
    }
    if (sig == SIGKILL && !obs.killed_by_harness) {
      o.kind = obs.oom_kill_seen ? OutcomeKind::oom : OutcomeKind::signal;
      o.detail = obs.oom_kill_seen ? "killed by SIGKILL while the kernel's OOM killer was active"
                                   : "killed by SIGKILL, not sent by crashgate";
    } else if (sig == SIGXCPU) {
      o.kind = OutcomeKind::timeout;
      o.detail = "the CPU-time limit ran out (SIGXCPU)";
    } else if (sig == SIGABRT && mentions_out_of_memory(obs)) {
      o.kind = OutcomeKind::oom;
      o.detail = "aborted after an allocation failed (std::bad_alloc or similar on stderr)";
    } else if (o.attribution && o.attribution->stack_guard) {
      o.kind = OutcomeKind::stack_overflow;
      o.detail = signal_detail(o);
    } else {
      o.kind = OutcomeKind::signal;
      o.detail = signal_detail(o);
    }
    o.detail += step_suffix(o);
    return o;
  }

  int status = obs.exit_status;
  o.exit_code = status;
  if (obs.driver_run && status == 2) {  // kDriverCannotRun (driver_protocol.h)
    o.kind = OutcomeKind::harness_error;
    o.detail = "the driver could not run the cell (exit status 2); its stderr says why";
    return o;
  }
  if (obs.protocol_spoken && o.failed_step) {
    for (const auto& step : o.steps)
      if (step.index == *o.failed_step && step.status == StepStatus::error) {
        o.kind = OutcomeKind::error;
        o.detail = fmt::format("step {} ({}) failed: {}{}", step.index, step.op, step.code,
                               step.message.empty() ? "" : ": " + step.message);
        return o;
      }
  }
  if (status == 0) {
    o.kind = OutcomeKind::ok;
    o.detail = "exited with status 0";
    for (const auto& c : obs.signals)
      if (!c.handled_by_program)
        o.notes.push_back(fmt::format("a descendant, process {} ({}), died of {}", c.pid, c.process_name,
                                      signal_name(c.signo)));
    return o;
  }
  // A non-zero exit after a child crashed (a shell running the real program): the crash explains it.
  for (const auto& c : obs.signals)
    if (!c.handled_by_program && status == 128 + c.signo) {
      take_signal_capture(o, c);
      o.kind = o.attribution && o.attribution->stack_guard ? OutcomeKind::stack_overflow : OutcomeKind::signal;
      o.detail = signal_detail(o) + fmt::format(" in process {} ({}), a descendant", c.pid, c.process_name);
      return o;
    }
  if (mentions_out_of_memory(obs)) {
    o.kind = OutcomeKind::oom;
    o.detail = fmt::format("exited with status {} after an allocation failed", status);
    return o;
  }
  o.kind = OutcomeKind::exit;
  o.detail = fmt::format("exited with status {}{}", status, step_suffix(o));
  return o;
}

}  // namespace crashgate
