// What crashgate reads from libFuzzer: its status lines (plain and -fork mode),
// the artifact a stopped run names, its final count of executions,
// and a target's .options file (OSS-Fuzz's format: a [libfuzzer] section of
// `key = value` lines, each becoming -key=value).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/checked.h"

namespace crashgate {

// The numbers of one libFuzzer status line; a field the line lacks stays unset.
struct FuzzerStatus {
  std::optional<std::uint64_t> execs;        // "#12345"
  std::optional<std::uint64_t> coverage;     // "cov: N"
  std::optional<std::uint64_t> features;     // "ft: N"
  std::optional<std::uint64_t> corpus;       // "corp: N" or "corp: N/Mb"
  std::optional<std::uint64_t> execs_per_s;  // "exec/s: N" (plain) or "exec/s N" (fork)
  std::optional<std::uint64_t> crashes;      // fork mode's "oom/timeout/crash: a/b/c"
};

// The status in `line`, or nothing when the line is not a status line.
std::optional<FuzzerStatus> parse_fuzzer_status(std::string_view line);

// The path in libFuzzer's "Test unit written to PATH" line (the artifact a
// run leaves when it stops at a crash, timeout, oom or leak), if `line` is one.
std::optional<std::string> parse_artifact_line(std::string_view line);

// N of "stat::number_of_executed_units: N" (-print_final_stats), if `line` is that.
std::optional<std::uint64_t> parse_final_execs(std::string_view line);

// The flags of an .options file ("-max_len=4096", "-dict=DIR/x.dict": a
// relative dict path is taken from the options file's folder). The failure
// says "file:line: what" (or "file: cannot be read").
Checked<std::vector<std::string>> read_fuzzer_options(const std::string& path);

}  // namespace crashgate
