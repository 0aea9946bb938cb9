// What the report writers say the same way: a cell's headline, diagnosis, rule,
// folder and name; safe text; paths relative to the project.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crashgate/run_results.h"

namespace crashgate::report {

// Valid UTF-8 with nothing a reader cannot show: invalid bytes become U+FFFD,
// control characters other than tab and newline become "\xNN" (XML 1.0 cannot
// carry them at all, and a terminal escape in HTML is noise).
std::string printable(std::string_view text);

// printable(), then & < > " ' as entities: safe in XML and HTML text and attributes.
std::string markup_escape(std::string_view text);

// The attempt a report describes: the first (the failure, for flaky cells too); nullptr when none ran.
const Attempt* first_attempt(const CellResult& cell);

// One line: "signal SIGBUS at step 2: SIGBUS (BUS_ADRERR): read at ... (expected error corrupt)".
std::string cell_headline(const CellResult& cell);

// Several lines: expectation, what came, why not met, the outcome explained
// (stacks, attribution, crash state), reruns, and the command that reproduces it.
std::string cell_diagnosis(const CellResult& cell);

// The SARIF rule for a failing attempt: "signal/SIGBUS", "asan/heap-buffer-overflow",
// "stack-overflow", "timeout", "oom", or "expectation-mismatch" when nothing crashed.
std::string rule_id(const Outcome& outcome);
// One sentence saying what a rule means.
std::string rule_description(const std::string& rule);

// The scenario's folder under scenarios/, its fault class: "truncated-files".
std::string scenario_folder(const CellResult& cell);
// "[cut=0]" (as in the id), or "".
std::string params_text(const CellResult& cell);

// An absolute `path` that lies below `root`, relative to it; nothing otherwise.
std::optional<std::string> project_relative(const std::string& path, const std::string& root);

// The frame a report points at: the first frame of the crashing stack that
// counts for the crash state and lies in the project; then any project frame.
const Frame* first_project_frame(const Outcome& outcome, const std::string& source_root);

// The end of a captured output, at most about `max_bytes` of it (a cell's stderr
// may hold megabytes; a report of 500 cells must not), starting at a line when
// it can, with a line saying how much came before.
std::string output_tail(const OutputExcerpt& output, std::size_t max_bytes);

// "1.234" seconds from milliseconds.
std::string seconds_text(std::int64_t ms);

}  // namespace crashgate::report
