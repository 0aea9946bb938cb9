// Ctrl-C for the CLI: SIGINT/SIGTERM cancel every run, which still report what finished.
#pragma once

#include "crashgate/runner.h"

namespace crashgate {

// Routes SIGINT and SIGTERM to cancellation.cancel() for as long as the guard lives.
class InterruptGuard {
 public:
  explicit InterruptGuard(Cancellation& cancellation);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

}  // namespace crashgate
