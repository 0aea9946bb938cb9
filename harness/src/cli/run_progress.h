// What `crashgate run` prints while it runs and when it ends: on a terminal a
// live progress line ("[12/40] 1 failed · name/…[cut=0] signal SIGBUS") above
// which only problems scroll; elsewhere (CI logs) one plain line per cell.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "crashgate/run_results.h"

namespace crashgate {

class RunProgress {
 public:
  // `live`: redraw one status line (a terminal of `width` columns) instead of printing every cell.
  RunProgress(std::FILE* out, bool live, int width, std::size_t total);
  // One attempt ended (called one at a time; see run_matrix.h).
  void attempt_done(const CellResult& cell, const Attempt& attempt);
  // Clears the live line before the summary is printed.
  void finish();

 private:
  void print_line(const std::string& line);
  std::FILE* out_;
  bool live_;
  int width_;
  std::size_t total_, done_ = 0, failed_ = 0, harness_errors_ = 0;
};

// Whether `out` is a terminal, and how wide.
bool is_terminal(std::FILE* out);
int terminal_width(std::FILE* out);

// The end-of-run summary: counts by verdict, then every cell that did not
// simply pass, with its headline diagnosis and repro command.
std::string run_summary(const RunResults& results);

// "fail  name/vstore/release[cut=0]  signal SIGBUS at step 2 (expected error corrupt)"
std::string attempt_line(const CellResult& cell, const Attempt& attempt);

// Shortens `text` to `width` columns by cutting its middle: "truncated/…[cut=0]".
std::string ellipsize_middle(const std::string& text, std::size_t width);

}  // namespace crashgate
