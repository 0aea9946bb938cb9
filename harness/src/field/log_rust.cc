// Rust's panic and stack overflow messages (library/std/src/panicking.rs,
// sys/pal/unix/stack_overflow.rs):
//   thread 'main' panicked at src/x.rs:10:5:          (1.73 and later; 1.89+ adds the id: 'main' (4711))
//   msg
//   thread 'main' panicked at 'msg', src/x.rs:10:5    (before 1.73)
//   stack backtrace:                                  (RUST_BACKTRACE=1; =full adds addresses and hashes)
//      0: rust_begin_unwind
//                at /rustc/<hash>/library/std/src/panicking.rs:597:5
//   thread 'tokio-runtime-worker' has overflowed its stack
//   fatal runtime error: stack overflow               (1.84+: ", aborting")
// A panic that unwinds out of main exits with status 101; one that cannot
// unwind (panic=abort, a panic while panicking, in a nounwind function) aborts.
#include <signal.h>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate::field {
namespace {

// "'name' " or "'name' (4711) " after "thread ": the name, the id, and where the rest starts.
bool thread_name_at(std::string_view s, std::string& name, std::int64_t& tid, std::size_t& rest) {
  if (!starts_with(s, "thread '")) return false;
  // A thread name may hold quotes and spaces; the known words after it decide where it ends.
  for (std::string_view after : {"' panicked at ", "' has overflowed its stack", "' ("}) {
    auto end = s.find(after, 8);
    if (end == std::string_view::npos) continue;
    name = s.substr(8, end - 8);
    rest = end + 2;
    if (after == "' (") {
      auto close = s.find(") ", end + 3);
      if (close == std::string_view::npos) return false;
      auto id = parse_decimal(s.substr(end + 3, close - end - 3));
      if (!id) continue;
      tid = *id;
      rest = close + 2;
    }
    return true;
  }
  return false;
}

// " 12: name" / " 12:     0x55d0c2b7c1e5 - name": a backtrace frame line.
std::optional<Frame> backtrace_frame(std::string_view line) {
  std::string_view t = trim(line);
  auto colon = t.find(": ");
  if (colon == std::string_view::npos || !all_digits(t.substr(0, colon))) return std::nullopt;
  std::string_view rest = trim(t.substr(colon + 2));
  Frame f;
  if (starts_with(rest, "0x")) {
    auto dash = rest.find(" - ");
    if (auto pc = leading_hex(rest)) f.pc = *pc;
    rest = dash == std::string_view::npos ? std::string_view{} : rest.substr(dash + 3);
  }
  // =full's symbols end in their hash, "::h5d9e5f8c3c2e0f1a", which changes with every build.
  if (auto h = rest.rfind("::h"); h != std::string_view::npos && rest.size() - h == 19 && parse_hex(rest.substr(h + 3)))
    rest = rest.substr(0, h);
  if (rest != "<unknown>") f.function = rest;
  return f;
}

// The lines after the panic line: its message (new style), then "note:" lines and a backtrace.
struct PanicBody {
  std::vector<std::string> message;
  std::vector<Frame> frames;
  std::size_t end = 0;
};

PanicBody read_body(const Log& log, std::size_t start, bool new_style) {
  PanicBody body;
  std::size_t i = start + 1;
  if (new_style)
    for (; i < log.lines.size(); ++i) {
      std::string_view t = trim(log.lines[i].text);
      if (t.empty() || starts_with(t, "note: ") || t == "stack backtrace:" || starts_with(t, "thread '")) break;
      body.message.emplace_back(t);
    }
  for (; i < log.lines.size(); ++i) {
    std::string_view t = trim(log.lines[i].text);
    if (starts_with(t, "note: ") && body.frames.empty()) continue;
    if (t == "stack backtrace:") continue;
    if (auto frame = backtrace_frame(t)) {
      body.frames.push_back(std::move(*frame));
      continue;
    }
    if (starts_with(t, "at ") && !body.frames.empty()) {
      Frame located;
      if (parse_file_line(t.substr(3), located) && body.frames.back().file.empty()) {
        body.frames.back().file = located.file;
        body.frames.back().line = located.line;
        body.frames.back().column = located.column;
      }
      continue;
    }
    break;
  }
  body.end = i;
  return body;
}

// Whether the panic aborted the process instead of unwinding: Rust says so, or
// the shell does (a second panic while unwinding the first aborts too: the first is the cause).
bool aborted_after(const Log& log, std::size_t from) {
  for (std::size_t i = from; i < log.lines.size() && i < from + 40; ++i) {
    std::string_view t = trim(log.lines[i].text);
    if (contains(t, ". aborting.") || contains(t, "panic in a function that cannot unwind") ||
        (starts_with(t, "fatal runtime error: ") && contains(t, "abort")) || shell_death_signal(t) == SIGABRT)
      return true;
  }
  return false;
}

}  // namespace

std::optional<RustPanicLine> rust_panic_line(std::string_view line) {
  std::string_view l = trim(line);
  auto at = l.find("thread '");
  if (at == std::string_view::npos) return std::nullopt;
  l = l.substr(at);
  RustPanicLine p;
  std::size_t rest = 0;
  if (!thread_name_at(l, p.thread, p.tid, rest) || !starts_with(l.substr(rest), "panicked at ")) return std::nullopt;
  auto tail = l.substr(rest + 12);
  if (starts_with(tail, "'")) {  // 'msg', src/x.rs:10:5
    auto comma = tail.rfind("', ");
    if (comma == std::string_view::npos || comma == 0) return std::nullopt;
    p.message = tail.substr(1, comma - 1);
    p.location = tail.substr(comma + 3);
  } else {  // src/x.rs:10:5:
    p.new_style = true;
    p.location = ends_with(tail, ":") ? tail.substr(0, tail.size() - 1) : tail;
  }
  return p;
}

std::vector<std::size_t> detect_rust_panic(const Log& log) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.lines.size(); ++i) {
    if (!rust_panic_line(log.lines[i].text)) continue;
    // "panic in a function that cannot unwind" right after a panic is that
    // panic reaching an extern "C" frame: the same crash, not another.
    bool consequence = !starts.empty() && i - starts.back() <= 8 && i + 1 < log.lines.size() &&
                       contains(log.lines[i + 1].text, "panic in a function that cannot unwind");
    if (!consequence) starts.push_back(i);
  }
  return starts;
}

Checked<Outcome> parse_rust_panic(const Log& log, std::size_t start) {
  RustPanicLine panic = *rust_panic_line(log.lines[start].text);
  PanicBody body = read_body(log, start, panic.new_style);
  std::string message = panic.new_style ? (body.message.empty() ? "" : body.message.front()) : panic.message;
  Outcome o;
  o.check = "panic";
  Thread t;
  t.name = panic.thread;
  t.tid = panic.tid;
  t.role = "crashed";
  if (!body.frames.empty()) {
    t.frames = std::move(body.frames);
  } else {
    // No RUST_BACKTRACE: the panic's location is all there is.
    Frame where;
    if (parse_file_line(panic.location, where)) t.frames.push_back(where);
  }
  bool aborted = aborted_after(log, body.end > start ? body.end - 1 : start);
  if (aborted && body.frames.empty()) {
    // The panic reached a function that cannot unwind (an extern "C"
    // callback): Rust panics again there, and that second panic's backtrace
    // names the function the first one was raised in. Its frames follow the
    // first panic's location.
    for (std::size_t i = body.end; i < log.lines.size() && i < body.end + 4; ++i) {
      auto next = rust_panic_line(log.lines[i].text);
      if (!next) continue;
      PanicBody second = read_body(log, i, next->new_style);
      bool cannot_unwind = false;
      for (const auto& m : second.message) cannot_unwind = cannot_unwind || contains(m, "cannot unwind");
      if (cannot_unwind)
        for (auto& f : second.frames) t.frames.push_back(std::move(f));
      break;
    }
  }
  o.threads.push_back(std::move(t));
  o.crashing_thread = 0;
  if (aborted) {
    o.kind = OutcomeKind::signal;
    o.signal = SIGABRT;
  } else {
    o.kind = OutcomeKind::exit;
    o.exit_code = 101;
    if (panic.thread != "main")
      o.notes.push_back(fmt::format("a panic in thread '{}' ends that thread; the process exits with 101 only when it "
                                    "is joined and unwrapped or panics again (tokio hands it over as a JoinError)",
                                    panic.thread));
  }
  o.detail = fmt::format("panic in thread '{}' at {}{}{}{}", panic.thread, panic.location, message.empty() ? "" : ": ",
                         message, body.message.size() > 1 ? " ..." : "");
  if (o.kind == OutcomeKind::signal) o.detail = "SIGABRT after a " + o.detail + " (the panic could not unwind)";
  if (body.frames.empty() && o.threads[0].frames.empty()) o.notes.push_back("no backtrace: run with RUST_BACKTRACE=1 for one");
  return o;
}

std::vector<std::size_t> detect_rust_stack_overflow(const Log& log) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.lines.size(); ++i) {
    std::string_view t = trim(log.lines[i].text);
    auto at = t.find("thread '");
    std::string name;
    std::int64_t tid = 0;
    std::size_t rest = 0;
    if (at != std::string_view::npos && thread_name_at(t.substr(at), name, tid, rest) &&
        starts_with(t.substr(at + rest), "has overflowed its stack"))
      starts.push_back(i);
  }
  return starts;
}

Checked<Outcome> parse_rust_stack_overflow(const Log& log, std::size_t start) {
  std::string_view t = trim(log.lines[start].text);
  Thread thread;
  std::size_t rest = 0;
  thread_name_at(t.substr(t.find("thread '")), thread.name, thread.tid, rest);
  thread.role = "crashed";
  Outcome o;
  o.kind = OutcomeKind::stack_overflow;
  o.signal = SIGABRT;  // Rust's SIGSEGV handler saw the guard page, printed this and aborted
  Attribution a;
  a.stack_guard = true;
  a.stack_thread_name = thread.name;
  if (thread.tid) a.stack_thread = thread.tid;
  a.description = fmt::format("thread '{}' ran into its stack's guard page", thread.name);
  o.attribution = a;
  o.detail = fmt::format("stack overflow in thread '{}' (Rust's handler aborted the process)", thread.name);
  o.threads.push_back(std::move(thread));
  o.crashing_thread = 0;
  bool confirmed = false;
  for (std::size_t i = start + 1; i < log.lines.size() && i <= start + 3; ++i)
    if (starts_with(trim(log.lines[i].text), "fatal runtime error: stack overflow")) confirmed = true;
  if (!confirmed) o.notes.push_back("no 'fatal runtime error: stack overflow' line follows: the log may be cut short");
  o.notes.push_back("Rust prints no stack for a stack overflow; a core dump or gdb shows the recursion");
  return o;
}

}  // namespace crashgate::field
