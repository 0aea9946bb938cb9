// gdb's report of a crash and its backtraces (`bt`, `thread apply all bt`):
//   Program received signal SIGSEGV, Segmentation fault.        (live; "Thread 2 "worker" received signal ..." when threaded)
//   Program terminated with signal SIGSEGV, Segmentation fault. (a core file)
//   [Current thread is 1 (Thread 0x7ffff7d8a740 (LWP 12345))]
//   Thread 2 (Thread 0x7ffff77ff640 (LWP 12346) "worker"):
//   #0  0x00007ffff7a42e97 in raise () from /lib/x86_64-linux-gnu/libc.so.6
//   #1  0x000055555555513d in count (n=3) at x.c:30
//   #2  main () at x.c:40                                       (no address: the pc is at the line's start)
//   #3  <signal handler called>
#include <signal.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate::field {
namespace {

struct SignalLine {
  int signo = 0;
  std::string thread_number;  // gdb's thread number when it said which thread
};

// "Program received signal SIGSEGV, Segmentation fault." and its variants.
std::optional<SignalLine> signal_line(std::string_view line) {
  std::string_view t = trim(line);
  SignalLine s;
  std::size_t at = std::string_view::npos;
  for (std::string_view words : {" received signal ", " terminated with signal "}) {
    at = t.find(words);
    if (at != std::string_view::npos) {
      at += words.size();
      break;
    }
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view who = t.substr(0, t.find(' '));
  if (who != "Program" && who != "Thread") return std::nullopt;
  if (who == "Thread") {
    auto rest = t.substr(7);
    s.thread_number = rest.substr(0, rest.find(' '));
  }
  auto name = t.substr(at, t.find_first_of(", ", at) - at);
  auto signo = parse_signal_name(name);
  if (!signo || !starts_with(name, "SIG")) return std::nullopt;
  s.signo = *signo;
  return s;
}

// "#1  0x000055555555513d in count (n=3) at x.c:30" -> the frame.
std::optional<Frame> gdb_frame(std::string_view text) {
  std::string_view t = trim(text);
  if (t.size() < 3 || t[0] != '#') return std::nullopt;
  auto space = t.find(' ');
  if (space == std::string_view::npos || !all_digits(t.substr(1, space - 1))) return std::nullopt;
  std::string_view rest = trim(t.substr(space));
  Frame f;
  if (starts_with(rest, "0x")) {
    std::size_t used = 0;
    f.pc = leading_hex(rest, &used).value_or(0);
    rest = trim(rest.substr(used));
    if (!starts_with(rest, "in ")) return f;
    rest = trim(rest.substr(3));
  }
  if (starts_with(rest, "<")) {  // "<signal handler called>", "<function called from gdb>"
    f.function = rest.substr(0, rest.find('>') + 1);
    return f;
  }
  // The name ends at " (" outside template brackets; the arguments follow.
  int depth = 0;
  std::size_t args = std::string_view::npos;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '<') ++depth;
    else if (rest[i] == '>' && depth > 0) --depth;
    else if (depth == 0 && rest[i] == ' ' && i + 1 < rest.size() && rest[i + 1] == '(') {
      args = i;
      break;
    }
  }
  if (args == std::string_view::npos) {
    auto sp = rest.find(' ');
    f.function = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp);
  } else {
    f.function = rest.substr(0, args);
    int parens = 0;
    std::size_t i = args + 1;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '(') ++parens;
      else if (rest[i] == ')' && --parens == 0) break;
    }
    rest = i < rest.size() ? rest.substr(i + 1) : std::string_view{};
  }
  if (f.function == "??") f.function.clear();
  rest = trim(rest);
  if (starts_with(rest, "at ")) parse_file_line(trim(rest.substr(3)), f);
  else if (starts_with(rest, "from ")) f.module = trim(rest.substr(5));
  return f;
}

// "Thread 2 (Thread 0x7ffff77ff640 (LWP 12346) "worker"):" -> number, lwp, name.
bool gdb_thread_header(std::string_view line, std::string& number, Thread& t) {
  std::string_view l = trim(line);
  if (!starts_with(l, "Thread ") || !ends_with(l, "):")) return false;
  auto rest = l.substr(7);
  auto space = rest.find(' ');
  if (space == std::string_view::npos || !all_digits(rest.substr(0, space))) return false;
  number = rest.substr(0, space);
  if (auto lwp = rest.find("(LWP "); lwp != std::string_view::npos) {
    auto digits = rest.substr(lwp + 5);
    if (auto tid = parse_decimal(digits.substr(0, digits.find(')')))) t.tid = *tid;
  }
  auto last = rest.substr(0, rest.size() - 2);
  if (ends_with(last, "\"")) {
    auto open = last.rfind('"', last.size() - 2);
    if (open != std::string_view::npos) t.name = last.substr(open + 1, last.size() - open - 2);
  }
  return true;
}

// gdb starts its frames in the first column; sanitizers indent theirs.
bool is_frame_line(std::string_view line) {
  return line.size() > 2 && line[0] == '#' && std::isdigit(static_cast<unsigned char>(line[1]));
}

}  // namespace

std::vector<std::size_t> detect_gdb(const Log& log) {
  std::vector<std::size_t> starts;
  bool in_backtrace = false;
  for (std::size_t i = 0; i < log.lines.size(); ++i) {
    std::string_view t = trim(log.lines[i].text);
    if (signal_line(t)) {
      starts.push_back(i);
      in_backtrace = true;  // the bt after it is this crash's
      continue;
    }
    // A backtrace alone (bt pasted without the signal line).
    if (!in_backtrace && starts_with(t, "#0  ") && gdb_frame(t)) {
      starts.push_back(i);
      in_backtrace = true;
    }
  }
  // Backtraces of one session are one crash: keep the starts that are signal lines
  // when there are any, else the first backtrace.
  std::vector<std::size_t> signals;
  for (auto s : starts)
    if (signal_line(log.lines[s].text)) signals.push_back(s);
  if (!signals.empty()) return signals;
  if (!starts.empty()) starts.resize(1);
  return starts;
}

Checked<Outcome> parse_gdb(const Log& log, std::size_t start) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  std::string crashed_number;
  std::optional<Frame> stop_location;
  if (auto s = signal_line(log.lines[start].text)) {
    o.signal = s->signo;
    crashed_number = s->thread_number;
  }
  std::vector<std::string> numbers;
  Thread* thread = nullptr;
  std::string pending;  // a frame line gdb wrapped over several lines
  auto flush = [&] {
    if (pending.empty()) return;
    if (auto f = gdb_frame(pending)) {
      if (!thread) {
        o.threads.emplace_back();
        numbers.emplace_back();
        thread = &o.threads.back();
      }
      thread->frames.push_back(std::move(*f));
    }
    pending.clear();
  };
  for (std::size_t i = start; i < log.lines.size(); ++i) {
    std::string_view line = log.lines[i].text;
    std::string_view t = trim(line);
    if (i > start && signal_line(t)) {
      break;  // the next crash of the session
    }
    if (starts_with(t, "[Current thread is ")) {
      auto rest = t.substr(19);
      crashed_number = rest.substr(0, rest.find(' '));
      continue;
    }
    Thread header;
    std::string number;
    if (gdb_thread_header(t, number, header)) {
      flush();
      o.threads.push_back(std::move(header));
      numbers.push_back(number);
      thread = &o.threads.back();
      continue;
    }
    if (is_frame_line(line)) {
      flush();
      pending = t;
      continue;
    }
    // A wrapped frame goes on indented ("    at x.c:30", "    b=2)").
    if (!pending.empty() && starts_with(line, "    ") && !t.empty()) {
      pending += " ";
      pending += t;
      continue;
    }
    flush();
    // Where the program stopped, before any bt: "0x000055555555513d in count (n=3) at x.c:30".
    if (o.threads.empty() && !stop_location && i > start && i <= start + 2 && (starts_with(t, "0x") || contains(t, " at "))) {
      if (auto f = gdb_frame("#0  " + std::string(t))) stop_location = f;
    }
  }
  flush();
  if (o.threads.empty() && stop_location) {
    Thread t;
    t.frames.push_back(*stop_location);
    o.threads.push_back(std::move(t));
    numbers.emplace_back();
    o.notes.push_back("no backtrace in the log: only where the program stopped");
  }
  // `bt` then `thread apply all bt` shows the current thread twice: the
  // numbered copy stays, and says which thread `bt` was of.
  bool numbered = std::any_of(numbers.begin(), numbers.end(), [](const std::string& n) { return !n.empty(); });
  for (std::size_t i = 0; numbered && i < o.threads.size();) {
    if (!numbers[i].empty()) {
      ++i;
      continue;
    }
    for (std::size_t j = 0; j < o.threads.size(); ++j)
      if (!numbers[j].empty() && o.threads[j].frames == o.threads[i].frames && crashed_number.empty())
        crashed_number = numbers[j];
    o.threads.erase(o.threads.begin() + static_cast<std::ptrdiff_t>(i));
    numbers.erase(numbers.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // Which thread crashed: the one gdb named, else the one in the signal's machinery, else the first.
  int crashed = -1;
  for (std::size_t i = 0; i < numbers.size() && !crashed_number.empty(); ++i)
    if (numbers[i] == crashed_number) crashed = static_cast<int>(i);
  if (crashed < 0 && o.threads.size() > 1) {
    for (std::size_t i = 0; i < o.threads.size() && crashed < 0; ++i)
      for (const auto& f : o.threads[i].frames)
        if (f.function == "<signal handler called>" || f.function == "raise" || f.function == "abort" ||
            f.function == "__pthread_kill_implementation") {
          crashed = static_cast<int>(i);
          break;
        }
    o.notes.push_back(crashed < 0 ? "the log does not say which thread crashed: the first listed is taken"
                                  : "the log does not say which thread crashed: the one in the signal's machinery is taken");
  }
  if (crashed < 0) crashed = 0;
  if (!o.threads.empty()) {
    std::rotate(o.threads.begin(), o.threads.begin() + crashed, o.threads.begin() + crashed + 1);
    for (auto& t : o.threads) t.role = "running";
    o.threads[0].role = "crashed";
    o.crashing_thread = 0;
    // Frames above "<signal handler called>" are the program's handler (a
    // faulthandler, a crash reporter) reacting to the fault below it.
    auto& frames = o.threads[0].frames;
    for (std::size_t i = 0; i < frames.size(); ++i)
      if (frames[i].function == "<signal handler called>") {
        o.notes.push_back(fmt::format("{} frames of a signal handler above the fault left out", i + 1));
        frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(i + 1));
        break;
      }
  }
  if (!o.signal) {
    for (const auto& t : o.threads)
      for (const auto& f : t.frames)
        if (&t == &o.threads.front() && (f.function == "abort" || f.function == "raise")) o.signal = SIGABRT;
    if (!o.signal) o.notes.push_back("the log names no signal");
  }
  std::string where;
  if (!o.threads.empty())
    for (const auto& f : o.threads[0].frames)
      if (!f.function.empty()) {
        where = fmt::format(" in {}{}", f.function, f.file.empty() ? "" : fmt::format(" at {}:{}", f.file, f.line));
        break;
      }
  o.detail = fmt::format("{}{} (gdb)", o.signal ? signal_name(*o.signal) : "a signal", where);
  return o;
}

}  // namespace crashgate::field
