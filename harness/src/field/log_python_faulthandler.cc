// Python's faulthandler dump (CPython Python/faulthandler.c, traceback.c):
//   Fatal Python error: Bus error
//
//   Current thread 0x00007f3a2c1d2740 (most recent call first):
//     File "x.py", line 30 in count
//   Thread 0x00007f3a1b7fe640 (most recent call first):
//     File "/usr/lib/python3.11/threading.py", line 324 in wait
// Frames say "line N in f" (no comma, unlike a traceback) and come innermost
// first. The thread ids are pthread_t values, not kernel thread ids.
#include <signal.h>

#include <algorithm>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate::field {
namespace {

constexpr std::string_view kFatal = "Fatal Python error: ";

// "  File "x.py", line 30 in count" -> the frame.
std::optional<Frame> dump_frame(std::string_view line) {
  std::string_view l = trim(line);
  if (!starts_with(l, "File ")) return std::nullopt;
  l.remove_prefix(5);
  Frame f;
  if (starts_with(l, "\"")) {
    auto close = l.find("\", line ", 1);
    if (close == std::string_view::npos) return std::nullopt;
    f.file = l.substr(1, close - 1);
    l = l.substr(close + 1);
  } else if (starts_with(l, "???")) {
    l = l.substr(3);
  } else {
    return std::nullopt;
  }
  if (!starts_with(l, ", line ")) return std::nullopt;
  l.remove_prefix(7);
  auto in = l.find(" in ");
  if (auto number = parse_decimal(l.substr(0, in))) f.line = static_cast<int>(*number);
  if (in != std::string_view::npos) f.function = l.substr(in + 4);
  if (f.function == "???") f.function.clear();
  return f;
}

struct ThreadHeader {
  bool current = false;
  std::string id;
};

// "Current thread 0x... (most recent call first):", "Thread 0x... [name] (most
// recent call first):" (3.14 adds the name), "Stack (most recent call first):".
std::optional<ThreadHeader> dump_thread_header(std::string_view line) {
  std::string_view l = trim(line);
  if (!ends_with(l, "(most recent call first):")) return std::nullopt;
  ThreadHeader h;
  if (starts_with(l, "Current thread ")) {
    h.current = true;
    l.remove_prefix(15);
  } else if (starts_with(l, "Thread ")) {
    l.remove_prefix(7);
  } else if (starts_with(l, "Stack ")) {
    h.current = true;
    return h;
  } else {
    return std::nullopt;
  }
  h.id = l.substr(0, l.find(' '));
  return h;
}

}  // namespace

std::vector<std::size_t> detect_python_faulthandler(const Log& log) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.lines.size(); ++i)
    if (starts_with(trim_left(log.lines[i].text), kFatal)) starts.push_back(i);
  return starts;
}

Checked<Outcome> parse_python_faulthandler(const Log& log, std::size_t start) {
  Outcome o;
  std::string_view first = trim(log.lines[start].text);
  std::string message(trim(first.substr(first.find(kFatal) + kFatal.size())));
  o.kind = OutcomeKind::signal;
  if (auto signo = signal_from_description(message)) {
    o.signal = signo;
  } else {
    // Py_FatalError: the interpreter found itself broken and called abort().
    o.signal = SIGABRT;
    o.check = message;
  }
  // glibc's message of the same abort comes just before the dump.
  for (std::size_t back = start; back-- > 0 && start - back <= 3;) {
    if (trim(log.lines[back].text).empty()) continue;
    if (auto glibc = glibc_abort_message(log.lines[back].text)) o.check = *glibc;
    break;
  }
  int crashed = -1;
  Thread* thread = nullptr;
  for (std::size_t i = start + 1; i < log.lines.size(); ++i) {
    std::string_view line = log.lines[i].text;
    std::string_view t = trim(line);
    if (starts_with(t, kFatal) || starts_with(t, "Extension modules: ")) break;
    if (auto header = dump_thread_header(line)) {
      Thread th;
      th.name = header->id;
      th.role = header->current ? "crashed" : "running";
      if (header->current && crashed < 0) crashed = static_cast<int>(o.threads.size());
      o.threads.push_back(std::move(th));
      thread = &o.threads.back();
      continue;
    }
    if (t.empty() || starts_with(t, "Python runtime state: ") || t == "...") continue;
    if (auto frame = dump_frame(line); frame && thread) {
      thread->frames.push_back(std::move(*frame));
      continue;
    }
    if (thread && (t == "<no Python frame>" || t == "Garbage-collecting" || t == "<tstate is freed>")) {
      if (t != "Garbage-collecting") thread->error = t;
      continue;
    }
    if (!thread) continue;  // lines between the message and the first stack (3.12's "Thread ... : ...")
    break;                  // the dump is over
  }
  // The crashed thread first: what dedup reads.
  if (crashed > 0) std::rotate(o.threads.begin(), o.threads.begin() + crashed, o.threads.begin() + crashed + 1);
  if (!o.threads.empty()) o.crashing_thread = 0;
  std::string where;
  if (!o.threads.empty() && !o.threads[0].frames.empty()) {
    const Frame& top = o.threads[0].frames[0];
    where = fmt::format(" in {} at {}:{}", top.function.empty() ? "??" : top.function, top.file, top.line);
  }
  o.detail = fmt::format("{} (Fatal Python error: {}){}", signal_name(*o.signal), message, where);
  if (o.threads.empty()) o.notes.push_back("the dump ends before its first stack");
  return o;
}

}  // namespace crashgate::field
