// A crash log as the field parsers see it: lines cleaned of terminal colours
// and of the prefixes log collectors put before every line, each keeping its
// line number in the source, plus the small text helpers every parser needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"

namespace crashgate::field {

struct LogLine {
  int number = 0;    // 1-based, in the source
  std::string text;  // without ANSI escapes, \r, and a syslog/journal/dmesg/ISO timestamp prefix
};

struct Log {
  std::string_view source;      // the name failures and notes use
  std::vector<LogLine> lines;
  std::string text;             // the cleaned lines joined by '\n'
  std::vector<std::size_t> offsets;  // where each line starts in `text`
  std::size_t line_at(std::size_t offset) const;  // the index of the line holding `offset`
};

Log clean_log(std::string_view raw, std::string_view source);
// One line's text cleaned as clean_log cleans it (exposed for the tests).
std::string clean_line(std::string_view line);

std::string_view trim(std::string_view s);
std::string_view trim_left(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
bool contains(std::string_view s, std::string_view part);
bool all_digits(std::string_view s);
// Hexadecimal with or without 0x; the whole of `s` must be digits.
std::optional<std::uint64_t> parse_hex(std::string_view s);
std::optional<std::int64_t> parse_decimal(std::string_view s);
// The hex number at the start of `s` (after an optional 0x), and how many characters it took.
std::optional<std::uint64_t> leading_hex(std::string_view s, std::size_t* used = nullptr);

// The words a shell, gdb or Python use for a fatal signal ("Bus error",
// "Segmentation fault", "Aborted"), to its number.
std::optional<int> signal_from_description(std::string_view words);
// A shell's report of a child's death: "Bus error (core dumped)",
// "bash: line 1:  7113 Bus error               python3 x.py", "Segmentation fault".
std::optional<int> shell_death_signal(std::string_view line);

// "SOURCE:LINE: what", the failure of a part a parser cannot skip.
Failure malformed(const Log& log, std::size_t index, std::string_view what);

// "file:12" or "file:12:7" at the end of `token`: fills file, line and column.
bool parse_file_line(std::string_view token, Frame& frame);

}  // namespace crashgate::field
