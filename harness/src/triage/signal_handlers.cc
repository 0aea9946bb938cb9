// Stacks that pass through a signal handler: a program (Rust's runtime,
// Python's faulthandler, a crash reporter) caught a fault, reported it and
// then raised a signal itself (abort, or the same signal again). The frames
// above the trampoline the handler returns through are the handler's; the
// crash is the code below it, which the fault interrupted.
#include <signal.h>

#include <fmt/format.h>

#include "crashgate/triage.h"

namespace crashgate {

std::optional<std::size_t> signal_trampoline(const std::vector<Frame>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i)
    if (frames[i].function == "__restore_rt" || frames[i].function == "<signal handler called>") return i;
  return std::nullopt;
}

std::optional<std::size_t> handler_frames(const Outcome& o, const Thread& stack) {
  if (!o.signal || o.si_code != SI_TKILL) return std::nullopt;  // raised by the program (abort, raise), not a fault
  auto at = signal_trampoline(stack.frames);
  if (!at) return std::nullopt;
  return *at + 1;
}

bool handled_as_stack_overflow(const Outcome& o, const Thread& stack) {
  if (o.signal != SIGABRT) return false;
  auto above = handler_frames(o, stack);
  if (!above) return false;
  // Rust's standard library: its SIGSEGV/SIGBUS handler aborts only for a
  // fault in a thread's guard page ("thread 'x' has overflowed its stack");
  // any other fault it hands back to the default action.
  for (std::size_t i = 0; i + 1 < *above; ++i)
    if (stack.frames[i].function.find("stack_overflow::imp::signal_handler") != std::string::npos) return true;
  return false;
}

void mark_handled_stack_overflow(Outcome& o, const Thread& stack) {
  o.kind = OutcomeKind::stack_overflow;
  if (!o.attribution || !o.attribution->stack_guard) {
    Attribution a;
    a.stack_guard = true;
    if (stack.tid) a.stack_thread = stack.tid;
    a.stack_thread_name = stack.name;
    a.description = fmt::format("thread {}{} ran into its stack's guard page: Rust's handler caught the fault and aborted",
                                stack.tid, stack.name.empty() ? "" : " '" + stack.name + "'");
    o.attribution = a;
  }
}

}  // namespace crashgate
