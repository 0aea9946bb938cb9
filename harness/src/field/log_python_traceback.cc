// An uncaught Python exception (CPython Python/traceback.c, Lib/traceback.py):
//   Traceback (most recent call last):
//     File "x.py", line 30, in count
//       return m[8192]
//              ~^^^^^^
//   ValueError: msg
// Frames come outermost first. Chained exceptions print one traceback per
// link ("During handling of the above exception, another exception occurred:",
// "The above exception was the direct cause of the following exception:"); the
// last one is the exception that ended the process.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate::field {
namespace {

constexpr std::string_view kHeader = "Traceback (most recent call last):";

bool chain_link(std::string_view line) {
  std::string_view t = trim(line);
  return t == "During handling of the above exception, another exception occurred:" ||
         t == "The above exception was the direct cause of the following exception:";
}

// The header, also inside an exception group's "  | " margin.
std::string_view unmargined(std::string_view line) {
  std::string_view t = trim_left(line);
  while (starts_with(t, "| ") || starts_with(t, "+ ") || t == "|") t = trim_left(t.substr(1));
  return t;
}

bool is_header(std::string_view line) {
  std::string_view t = unmargined(line);
  return t == kHeader || t == "Exception Group Traceback (most recent call last):";
}

// "  File "x.py", line 30, in count" -> the frame.
std::optional<Frame> traceback_frame(std::string_view line) {
  std::string_view l = unmargined(line);
  if (!starts_with(l, "File \"")) return std::nullopt;
  auto close = l.find("\", line ", 6);
  if (close == std::string_view::npos) return std::nullopt;
  Frame f;
  f.file = l.substr(6, close - 6);
  l = l.substr(close + 8);
  auto comma = l.find(", in ");
  if (auto number = parse_decimal(trim(l.substr(0, comma)))) f.line = static_cast<int>(*number);
  if (comma != std::string_view::npos) f.function = l.substr(comma + 5);
  return f;
}

// "pkg.module.Error: msg" or "KeyboardInterrupt": the type, and the message.
bool exception_line(std::string_view line, std::string& type, std::string& message) {
  std::string_view t = trim(unmargined(line));
  auto colon = t.find(':');
  std::string_view name = t.substr(0, colon);
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  type = name;
  message = colon == std::string_view::npos ? "" : std::string(trim(t.substr(colon + 1)));
  return true;
}

struct OneTraceback {
  std::vector<Frame> frames;  // outermost first, as printed
  std::string type, message;
  std::size_t end = 0;        // the line after it
  int repeated = 0;           // "[Previous line repeated N more times]"
};

OneTraceback read_traceback(const Log& log, std::size_t header) {
  OneTraceback tb;
  std::size_t i = header + 1;
  for (; i < log.lines.size(); ++i) {
    std::string_view line = log.lines[i].text;
    if (auto frame = traceback_frame(line)) {
      tb.frames.push_back(std::move(*frame));
      continue;
    }
    std::string_view t = unmargined(line);
    if (starts_with(t, "[Previous line repeated ")) {
      if (auto n = parse_decimal(t.substr(24, t.find(' ', 24) - 24))) tb.repeated += static_cast<int>(*n);
      continue;
    }
    // Source lines and carets are indented past the frame lines.
    if (starts_with(line, "    ") || (t.empty() && tb.frames.empty())) continue;
    if (is_header(line)) continue;  // an exception group's own header
    if (exception_line(line, tb.type, tb.message)) {
      ++i;
      break;
    }
    break;
  }
  tb.end = i;
  return tb;
}

// The traceback that follows line `from` in the same chain, or npos.
std::size_t next_in_chain(const Log& log, std::size_t from) {
  std::size_t i = from;
  // The exception's message may go on over several lines before the link.
  for (int skipped = 0; i < log.lines.size() && skipped < 20; ++i, ++skipped) {
    if (chain_link(log.lines[i].text)) break;
    if (is_header(log.lines[i].text)) return std::string_view::npos;
  }
  if (i >= log.lines.size()) return std::string_view::npos;
  for (++i; i < log.lines.size() && trim(log.lines[i].text).empty(); ++i) {}
  return i < log.lines.size() && is_header(log.lines[i].text) ? i : std::string_view::npos;
}

}  // namespace

std::vector<std::size_t> detect_python_traceback(const Log& log) {
  std::vector<std::size_t> starts;
  std::size_t chain_end = 0;
  for (std::size_t i = 0; i < log.lines.size(); ++i) {
    if (i < chain_end || !is_header(log.lines[i].text)) continue;
    starts.push_back(i);
    // The rest of this chain belongs to this crash.
    std::size_t at = i;
    for (int links = 0; links < 1000; ++links) {
      OneTraceback tb = read_traceback(log, at);
      std::size_t next = next_in_chain(log, tb.end);
      chain_end = tb.end;
      if (next == std::string_view::npos) break;
      at = next;
    }
  }
  return starts;
}

Checked<Outcome> parse_python_traceback(const Log& log, std::size_t start) {
  OneTraceback last = read_traceback(log, start);
  int links = 1;
  for (std::size_t next = next_in_chain(log, last.end); next != std::string_view::npos && links < 1000;
       next = next_in_chain(log, last.end)) {
    last = read_traceback(log, next);
    ++links;
  }
  Outcome o;
  o.kind = OutcomeKind::exit;
  Thread t;
  t.role = "crashed";
  t.name = "MainThread";
  // "Exception in thread worker-1:" (threading's excepthook) names a thread that died alone.
  for (std::size_t back = start; back-- > 0 && start - back <= 2;) {
    std::string_view b = trim(log.lines[back].text);
    if (starts_with(b, "Exception in thread ") && ends_with(b, ":")) {
      t.name = b.substr(20, b.size() - 21);
      o.notes.push_back(fmt::format("the exception ended thread {}, which does not end the process by itself", t.name));
    }
    if (!b.empty()) break;
  }
  t.frames.assign(last.frames.rbegin(), last.frames.rend());  // innermost first
  o.threads.push_back(std::move(t));
  o.crashing_thread = 0;
  if (last.type.empty()) {
    o.check = "exception";
    o.notes.push_back("the traceback ends before its exception line");
  } else {
    o.check = last.type;
  }
  // An uncaught exception exits with status 1; KeyboardInterrupt re-raises SIGINT (3.8+), SystemExit its code.
  if (last.type != "KeyboardInterrupt" && last.type != "SystemExit") o.exit_code = 1;
  std::string where;
  if (!o.threads[0].frames.empty()) {
    const Frame& top = o.threads[0].frames[0];
    where = fmt::format(" in {} at {}:{}", top.function, top.file, top.line);
  }
  o.detail = fmt::format("uncaught {}{}{}", o.check, last.message.empty() ? "" : ": " + last.message, where);
  if (links > 1) o.notes.push_back(fmt::format("a chain of {} exceptions; the outcome is the last, which ended the process", links));
  if (last.repeated > 0) o.notes.push_back(fmt::format("a line repeated {} more times (recursion)", last.repeated));
  // pyo3 turns a Rust panic into this exception; the panic's own line says where.
  if (ends_with(last.type, "PanicException"))
    for (std::size_t back = start; back-- > 0 && start - back <= 200;)
      if (auto panic = rust_panic_line(log.lines[back].text)) {
        o.notes.push_back(fmt::format("a Rust panic became this exception: thread '{}' panicked at {} (line {})",
                                      panic->thread, panic->location, log.lines[back].number));
        break;
      }
  return o;
}

}  // namespace crashgate::field
