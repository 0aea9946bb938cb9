// The crash log format table and the dispatch: detection in table order, a
// forced format by name, and the note for the crashes not explained.
#include "crashgate/crash_log.h"

#include <array>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate {
namespace {

struct FormatEntry {
  CrashLogFormat format;
  field::Detector detect;
  field::Parser parse;
  // Which crash of several is explained: the first, or (Python tracebacks) the
  // last, since a process prints the uncaught exception that ends it last and
  // the earlier tracebacks were logged and handled.
  bool last_is_fatal = false;
};

// Order: formats that wrap others first (crashgate's own output quotes stderr;
// a sanitizer report is the runtime's own diagnosis; gdb shows the program's
// output inline), then the runtimes' fatal dumps, then messages that may be
// followed by a fuller dump (a Rust panic that pyo3 turned into a Python
// traceback), the kernel's one line last.
constexpr std::array kEntries = {
    FormatEntry{{"crashgate-exec", "crashgate exec's own output: the text summary or --json (crashgate.result/1)",
                 "crashgate exec output"},
                field::detect_crashgate_exec, field::parse_crashgate_exec},
    FormatEntry{{"sanitizer", "ASan, UBSan, TSan, LSan reports and libFuzzer's deadly signal, timeout, oom",
                 "sanitizer report"},
                field::detect_sanitizer, field::parse_sanitizer},
    FormatEntry{{"gdb", "gdb's signal line and bt / thread apply all bt", "gdb backtrace"}, field::detect_gdb, field::parse_gdb},
    FormatEntry{{"python-faulthandler", "Python's faulthandler dump: Fatal Python error: Bus error, then the threads' Python stacks",
                 "Python faulthandler dump"},
                field::detect_python_faulthandler, field::parse_python_faulthandler},
    FormatEntry{{"go", "a Go runtime panic or fatal error with its goroutines", "Go panic"}, field::detect_go, field::parse_go},
    FormatEntry{{"rust-stack-overflow", "Rust's thread 'x' has overflowed its stack, fatal runtime error: stack overflow",
                 "Rust stack overflow"},
                field::detect_rust_stack_overflow, field::parse_rust_stack_overflow},
    FormatEntry{{"glibc-abort", "glibc's fatal messages: stack smashing, double free, malloc(): corrupted ...",
                 "glibc abort message"},
                field::detect_glibc_abort, field::parse_glibc_abort},
    FormatEntry{{"python-traceback", "an uncaught Python exception: Traceback (most recent call last): ... ValueError: msg",
                 "Python traceback"},
                field::detect_python_traceback, field::parse_python_traceback, true},
    FormatEntry{{"rust-panic", "a Rust panic: thread 'main' panicked at src/x.rs:10:5, with RUST_BACKTRACE's stack",
                 "Rust panic"},
                field::detect_rust_panic, field::parse_rust_panic},
    FormatEntry{{"kernel", "the kernel's log line: segfault at, traps:, general protection, fatal signal (dmesg, journal)",
                 "kernel segfault or trap line"},
                field::detect_kernel, field::parse_kernel},
};

constexpr auto kFormats = [] {
  std::array<CrashLogFormat, kEntries.size()> out{};
  for (std::size_t i = 0; i < kEntries.size(); ++i) out[i] = kEntries[i].format;
  return out;
}();

std::string joined(std::string_view (*field)(const CrashLogFormat&)) {
  std::string out;
  for (const auto& f : kFormats) out += (out.empty() ? "" : ", ") + std::string(field(f));
  return out;
}

Checked<ParsedCrashLog> parse_with(const FormatEntry& entry, const field::Log& log, const std::vector<std::size_t>& starts) {
  std::size_t start = entry.last_is_fatal ? starts.back() : starts.front();
  auto outcome = entry.parse(log, start);
  if (!outcome) return Failure{outcome.error()};
  ParsedCrashLog parsed{std::string(entry.format.name), std::move(outcome).value(), log.lines[start].number};
  if (starts.size() > 1) {
    // The first few lines say where to look; a log of thousands says so by the count.
    std::string others;
    std::size_t listed = 0;
    for (auto s : starts) {
      if (s == start) continue;
      if (listed++ == 5) {
        others += ", ...";
        break;
      }
      others += (others.empty() ? "" : ", ") + std::to_string(log.lines[s].number);
    }
    parsed.outcome.notes.push_back(fmt::format("{} more crash{} in the log (line{} {}); this is the {} one, at line {}",
                                               starts.size() - 1, starts.size() == 2 ? "" : "es",
                                               starts.size() == 2 ? "" : "s", others,
                                               entry.last_is_fatal ? "last" : "first", parsed.first_line));
  }
  return parsed;
}

}  // namespace

std::span<const CrashLogFormat> crash_log_formats() { return kFormats; }

Checked<ParsedCrashLog> parse_crash_log(std::string_view text, std::string_view source_name, std::string_view format) {
  field::Log log = field::clean_log(text, source_name);
  if (!format.empty()) {
    for (const auto& entry : kEntries) {
      if (entry.format.name != format) continue;
      auto starts = entry.detect(log);
      if (starts.empty())
        return failure(fmt::format("{}: no {} crash in it (looked for: {})", source_name, format, entry.format.looks_for));
      return parse_with(entry, log, starts);
    }
    return failure(fmt::format("{}: not a format: '{}' (the formats: {})", source_name, format,
                               joined([](const CrashLogFormat& f) { return f.name; })));
  }
  for (const auto& entry : kEntries) {
    auto starts = entry.detect(log);
    if (!starts.empty()) return parse_with(entry, log, starts);
  }
  return failure(fmt::format("{}: no crash log format recognised (looked for: {})", source_name,
                             joined([](const CrashLogFormat& f) { return f.looks_for; })));
}

}  // namespace crashgate
