// Internal: what the I/O seam and the logic sites ask of the failpoint registry.
#pragma once

#include <cstdint>

#include "vstore/failpoint.h"
#include "vstore/status.h"

namespace vstore::internal {

// What a site must do after evaluation. delay, yield and crash are carried out
// inside failpoint_eval itself; error and short are the caller's to apply.
struct FailOutcome {
  enum Kind : uint8_t { none, error, short_io } kind = none;
  int err = 0;          // for error
  uint64_t bytes = 0;   // for short_io: how many bytes the call transfers before failing
};

#ifdef VSTORE_FAILPOINTS_ENABLED
FailOutcome failpoint_eval(FailSite site);
// True while some configured term has the crash action: the I/O seam then keeps
// the undo log that a simulated power cut needs.
bool crash_armed();
#else
inline FailOutcome failpoint_eval(FailSite) { return {}; }
inline bool crash_armed() { return false; }
#endif

// The error, if any, in VSTORE_FAILPOINTS as read from the environment. Store
// open/create return it, so that a mistyped spec never runs the wrong test.
Status failpoint_environment_status();

// For logic sites: error(E) becomes the Status of errno E; everything else Ok.
Status failpoint_status(FailSite site);

// Provided by the I/O seam: undo every write not yet synced, then SIGKILL self.
[[noreturn]] void simulate_power_cut_and_die();

}  // namespace vstore::internal
