// The field log formats' detectors and parsers, one pair per format (one
// file per family: log_sanitizer.cc, log_python.cc, ...); crash_log.cc puts
// them in the table.
#pragma once

#include <cstddef>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"
#include "field/log_text.h"

namespace crashgate::field {

// Where the crashes of one format start in a log: indices into log.lines, in order.
using Detector = std::vector<std::size_t> (*)(const Log& log);
// The outcome of the crash that starts at line index `start`.
using Parser = Checked<Outcome> (*)(const Log& log, std::size_t start);

std::vector<std::size_t> detect_crashgate_exec(const Log& log);
Checked<Outcome> parse_crashgate_exec(const Log& log, std::size_t start);

std::vector<std::size_t> detect_sanitizer(const Log& log);
Checked<Outcome> parse_sanitizer(const Log& log, std::size_t start);

std::vector<std::size_t> detect_gdb(const Log& log);
Checked<Outcome> parse_gdb(const Log& log, std::size_t start);

std::vector<std::size_t> detect_python_faulthandler(const Log& log);
Checked<Outcome> parse_python_faulthandler(const Log& log, std::size_t start);

std::vector<std::size_t> detect_go(const Log& log);
Checked<Outcome> parse_go(const Log& log, std::size_t start);

std::vector<std::size_t> detect_rust_stack_overflow(const Log& log);
Checked<Outcome> parse_rust_stack_overflow(const Log& log, std::size_t start);

std::vector<std::size_t> detect_glibc_abort(const Log& log);
Checked<Outcome> parse_glibc_abort(const Log& log, std::size_t start);

std::vector<std::size_t> detect_python_traceback(const Log& log);
Checked<Outcome> parse_python_traceback(const Log& log, std::size_t start);

std::vector<std::size_t> detect_rust_panic(const Log& log);
Checked<Outcome> parse_rust_panic(const Log& log, std::size_t start);

std::vector<std::size_t> detect_kernel(const Log& log);
Checked<Outcome> parse_kernel(const Log& log, std::size_t start);

// Shared between formats: glibc's fatal messages ("free(): double free
// detected in tcache 2"), which also precede a Python faulthandler dump of
// the same abort; the message as the check, or nothing.
std::optional<std::string> glibc_abort_message(std::string_view line);

// Rust's "thread 'NAME' panicked at ..." line, also read by the Python
// traceback parser when pyo3 turned the panic into an exception.
struct RustPanicLine {
  std::string thread;
  std::int64_t tid = 0;  // Rust 1.89+ prints the thread id: "thread 'main' (4711) panicked"
  std::string location;  // "src/x.rs:10:5"
  std::string message;   // old style only; the new style has it on the next line
  bool new_style = false;
};
std::optional<RustPanicLine> rust_panic_line(std::string_view line);

}  // namespace crashgate::field
