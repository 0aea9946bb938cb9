// Sanitizer reports (ASan, UBSan, TSan, LSan, libFuzzer) parsed from a
// process's stderr: the check, the access, every stack and the SUMMARY line.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/outcome.h"

namespace crashgate {

struct SanitizerReport {
  std::string tool;            // "AddressSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer",
                               // "LeakSanitizer", "libFuzzer"
  std::string check;           // "heap-buffer-overflow", "data-race", "signed-integer-overflow", "direct-leak"
  std::string access;          // "READ 4", "WRITE 8", "READ" (size unknown); "" when not an access
  std::string headline;        // the line that opened the report
  std::string summary;         // the SUMMARY: line, without "SUMMARY: "
  std::optional<std::uint64_t> address;
  std::vector<Thread> stacks;  // roles: access, free, allocation, previous-access, thread-creation, leak, mutex
  OutcomeKind kind = OutcomeKind::asan;  // from the check table (sanitizer_checks.cc)
  std::optional<int> signal;   // for reports of a deadly signal (SEGV, BUS, ...)
  // "heap-buffer-overflow READ 4": what Outcome::check holds.
  std::string check_with_access() const { return access.empty() ? check : check + " " + access; }
};

// Every report in `text`, in order. Text that is not a report is ignored.
std::vector<SanitizerReport> parse_sanitizer_reports(std::string_view text);

// Of the reports in one stderr, the one that ended the run, or nullptr when
// there are none: a libFuzzer line is a consequence of a sanitizer report when
// both exist; a TSan race is a warning and a later deadly report (a signal, a
// stack overflow, an out-of-memory) is what ended the run; otherwise the first.
// The runner (classify) and the field log parser (crash_log.h) both use it.
const SanitizerReport* primary_sanitizer_report(std::span<const SanitizerReport> reports);

// One stack line of any sanitizer ("#3 0x55d in main /src/a.cc:5:7", "#0 f a.cc:5 (bin+0x12)").
std::optional<Frame> parse_sanitizer_frame(std::string_view line);

// The outcome kind for a tool's check, from the table; unknown checks get the tool's own kind.
struct SanitizerCheckRule {
  std::string_view tool;       // "*" for every tool
  std::string_view check;
  OutcomeKind kind;
  std::string_view why;
};
std::span<const SanitizerCheckRule> sanitizer_check_rules();
OutcomeKind kind_for_check(std::string_view tool, std::string_view check);

}  // namespace crashgate
