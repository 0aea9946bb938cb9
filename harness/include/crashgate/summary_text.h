// The human summary `crashgate exec` prints: what happened, where, and how to reproduce it.
#pragma once

#include <string>

#include "crashgate/outcome.h"

namespace crashgate {

struct SummaryOptions {
  int frames_per_thread = 12;   // the crashing thread shows this many frames
  int other_threads = 8;        // other threads shown, with 3 frames each
  bool run_figures = true;      // the run's time, memory and output sizes (a crash from the field has none)
};

std::string summary_text(const Outcome& outcome, const SummaryOptions& options = {});
// "fn at file:line (module+0xoff)"
std::string frame_text(const Frame& frame);

}  // namespace crashgate
