// A Go program's death (runtime/panic.go, runtime/signal_unix.go, runtime/traceback.go):
//   panic: runtime error: invalid memory address or nil pointer dereference
//   [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f1a2]
//
//   goroutine 1 [running]:
//   main.count(...)
//   	/src/x.go:30
//   main.main()
//   	/src/x.go:40 +0x1d
//   exit status 2
// or "unexpected fault address 0x...\nfatal error: fault\n[signal SIGBUS: bus error code=0x2 addr=0x... pc=0x...]",
// or, for a fault in C code (cgo), "SIGSEGV: segmentation violation\nPC=0x... m=0 sigcode=1 addr=0x0".
// The crashing goroutine is printed first. Unless GOTRACEBACK=crash, the
// runtime exits with status 2 even after a signal.
#include <signal.h>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate::field {
namespace {

bool crash_opening(std::string_view line) {
  return starts_with(line, "panic: ") || starts_with(line, "fatal error: ") ||
         starts_with(line, "unexpected fault address ") ||
         (starts_with(line, "SIG") && contains(line, ": ") && line.find(' ') == line.find(": ") + 1);
}

// "goroutine 1 [running]:", "goroutine 18 gp=0xc000102380 m=nil [chan receive, 2 minutes]:"
std::optional<Thread> goroutine_header(std::string_view line) {
  if (!starts_with(line, "goroutine ") || !ends_with(line, "]:")) return std::nullopt;
  auto rest = line.substr(10);
  auto space = rest.find(' ');
  if (!all_digits(rest.substr(0, space))) return std::nullopt;
  auto open = line.rfind('[');
  if (open == std::string_view::npos) return std::nullopt;
  Thread t;
  t.name = fmt::format("goroutine {} ({})", rest.substr(0, space), line.substr(open + 1, line.size() - open - 3));
  return t;
}

// "main.(*Store).count(0xc000010000, 0x3)" -> "main.(*Store).count".
std::string function_of(std::string_view line) {
  std::string_view l = trim(line);
  if (ends_with(l, ")")) {
    int depth = 0;
    for (std::size_t i = l.size(); i-- > 0;) {
      if (l[i] == ')') ++depth;
      else if (l[i] == '(' && --depth == 0) {
        l = l.substr(0, i);
        break;
      }
    }
  }
  return std::string(l);
}

// "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f1a2]"
void read_signal(std::string_view line, Outcome& o) {
  auto inside = line.substr(8, line.size() - 9);
  auto name = inside.substr(0, inside.find(':'));
  if (auto signo = parse_signal_name(name)) o.signal = signo;
  if (auto at = inside.find("code="); at != std::string_view::npos)
    if (auto code = leading_hex(inside.substr(at + 5))) o.si_code = static_cast<int>(*code);
  if (auto at = inside.find("addr="); at != std::string_view::npos) o.fault_address = leading_hex(inside.substr(at + 5));
}

// The cgo form: "SIGSEGV: segmentation violation" then "PC=0x7f... m=0 sigcode=1 addr=0x0".
void read_cgo_signal(const Log& log, std::size_t i, Outcome& o) {
  std::string_view line = log.lines[i].text;
  if (auto signo = parse_signal_name(line.substr(0, line.find(':')))) o.signal = signo;
  if (i + 1 >= log.lines.size()) return;
  std::string_view next = log.lines[i + 1].text;
  if (auto at = next.find("sigcode="); at != std::string_view::npos)
    if (auto code = parse_decimal(next.substr(at + 8, next.find(' ', at) - at - 8))) o.si_code = static_cast<int>(*code);
  if (auto at = next.find("addr="); at != std::string_view::npos) o.fault_address = leading_hex(next.substr(at + 5));
}

}  // namespace

std::vector<std::size_t> detect_go(const Log& log) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.lines.size(); ++i) {
    if (!crash_opening(log.lines[i].text)) continue;
    // Go's only if a goroutine dump follows: "panic: " and "fatal error: " are common words.
    std::size_t j = i + 1;
    for (; j < log.lines.size() && j <= i + 40; ++j)
      if (goroutine_header(log.lines[j].text)) break;
    if (j >= log.lines.size() || j > i + 40) continue;
    starts.push_back(i);
    // The rest of this crash's header and its goroutines are one crash.
    for (i = j; i + 1 < log.lines.size() && !crash_opening(log.lines[i + 1].text); ++i) {}
  }
  return starts;
}

Checked<Outcome> parse_go(const Log& log, std::size_t start) {
  Outcome o;
  std::string opening;
  std::size_t i = start;
  for (; i < log.lines.size(); ++i) {
    std::string_view line = log.lines[i].text;
    if (goroutine_header(line)) break;
    if (starts_with(line, "[signal ") && ends_with(line, "]")) {
      read_signal(line, o);
    } else if (starts_with(line, "unexpected fault address ")) {
      o.fault_address = leading_hex(line.substr(25));
    } else if ((starts_with(line, "panic: ") || starts_with(line, "fatal error: ")) && opening.empty()) {
      opening = line;
    } else if (starts_with(line, "SIG") && opening.empty() && crash_opening(line)) {
      read_cgo_signal(log, i, o);
      opening = line;
    }
  }
  Thread* thread = nullptr;
  bool skip_location = false;
  for (; i < log.lines.size(); ++i) {
    std::string_view line = log.lines[i].text;
    std::string_view t = trim(line);
    if (auto header = goroutine_header(line)) {
      o.threads.push_back(std::move(*header));
      thread = &o.threads.back();
      skip_location = false;
      continue;
    }
    if (t.empty() || t == "...additional frames elided..." || starts_with(t, "...")) continue;
    if (!thread) break;
    if (starts_with(line, "\t")) {  // "\t/src/x.go:30 +0x1d fp=... sp=... pc=..."
      if (skip_location || thread->frames.empty()) continue;
      auto token = t.substr(0, t.find(' '));
      Frame located;
      if (parse_file_line(token, located)) {
        thread->frames.back().file = located.file;
        thread->frames.back().line = located.line;
      }
      continue;
    }
    if (starts_with(t, "created by ")) {  // where the goroutine came from: not a frame of its stack
      skip_location = true;
      continue;
    }
    // Go frames always show their argument list; anything else ends the dump.
    if (starts_with(t, "exit status ") || crash_opening(line) || t.find('(') == std::string_view::npos) break;
    skip_location = false;
    Frame f;
    f.function = function_of(t);
    thread->frames.push_back(std::move(f));
  }
  for (auto& th : o.threads) th.role = "running";
  if (!o.threads.empty()) {
    o.threads[0].role = "crashed";
    o.crashing_thread = 0;
  }
  std::string message = opening.empty() ? "" : opening;
  if (o.signal) {
    o.kind = OutcomeKind::signal;
    o.check = message.empty() ? "" : message.substr(message.find(": ") + 2);
    o.notes.push_back("the Go runtime exits with status 2 after a fault unless GOTRACEBACK=crash makes it die of the signal");
  } else {
    o.kind = OutcomeKind::exit;
    o.exit_code = 2;
    o.check = starts_with(message, "fatal error: ") ? "fatal error" : "panic";
  }
  std::string where;
  if (!o.threads.empty())
    for (const auto& f : o.threads[0].frames)
      if (!starts_with(f.function, "runtime.")) {
        where = fmt::format(" in {} at {}:{}", f.function, f.file, f.line);
        break;
      }
  std::string address = o.fault_address ? fmt::format(" at 0x{:x}", *o.fault_address) : "";
  o.detail = o.signal ? fmt::format("{}{} (Go: {}){}", signal_name(*o.signal), address, message, where)
                      : fmt::format("Go {}{}", message, where);
  return o;
}

}  // namespace crashgate::field
