// Crash logs from the field parsed into an Outcome: one table of formats, each
// with a detector and a parser (harness/src/field/). `crashgate triage` reads
// a log an engineer brings (a user's terminal, journald, CI) and explains it
// like a crash crashgate observed itself.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"

namespace crashgate {

struct CrashLogFormat {
  std::string_view name;         // "python-faulthandler"
  std::string_view description;  // one line for --help and errors
  std::string_view looks_for;    // what detection looks for, in failures: "Python faulthandler dump"
};

// The table, in detection order: a log holding several formats (a sanitizer
// report inside `crashgate exec` output, a Rust panic before the Python
// traceback it became) is the first format's that detects a crash in it.
std::span<const CrashLogFormat> crash_log_formats();

struct ParsedCrashLog {
  std::string format;  // a name from the table
  // kind, detail, signal, si_code, fault_address, check, threads (crashed
  // thread first, role "crashed"; a sanitizer report keeps the runner's roles:
  // access, free, allocation, ...), crashing_thread, attribution where the log
  // says it, notes. Never crash_state, signature or known_issue: the caller
  // runs triage() (crashgate/triage.h) on the outcome.
  Outcome outcome;
  int first_line = 0;  // 1-based line of the source where the explained crash starts
};

// Detects the format from the content and parses it; `format` non-empty forces
// one format by name. The log may hold noise around the crash (other lines, ANSI
// colours, syslog/journal/dmesg/ISO timestamp prefixes); when it holds several
// crashes of the format, the first is explained (for Python tracebacks the last:
// the uncaught one ends the process, earlier ones were logged) and a note counts the others.
// Failures name the source and what was wrong:
//   "SOURCE: no crash log format recognised (looked for: sanitizer report, ...)",
//   "SOURCE: not a format: 'x' (the formats: ...)",
//   "SOURCE: no python-faulthandler crash in it (looked for: Python faulthandler dump)",
//   "SOURCE:LINE: ..." for a malformed part the parser cannot skip.
Checked<ParsedCrashLog> parse_crash_log(std::string_view text, std::string_view source_name,
                                        std::string_view format = {});

}  // namespace crashgate
