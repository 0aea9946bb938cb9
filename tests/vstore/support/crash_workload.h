// Test support: a deterministic write workload that a child runs with a crash
// failpoint armed, and the check a parent makes of the store it left behind.
//
// Phases (each ends with a sync the child announces as "SYNCED <phase>"):
//   0  (before the child) A = ids 0..999
//   1  add B = 1000..2999 (grows the files and the id table)
//   2  remove the even ids of A, add D = 3000..3499
//   3  compact
//   4  add E = 3500..3599, remove F = 1000..1099
// The child also creates a second store first, and the parent plants an
// orphaned file and marks the graph dirty (as a crash mid-link would), so that
// creation, orphan cleanup and the graph's rebuild are on the path too.
#pragma once

#include <cstdint>
#include <string>

#include "vstore/support/child_process.h"

namespace vstore::testing {

constexpr uint32_t kCrashDim = 8;

// Creates the store in dir with phase 0 synced, and plants an orphan file.
void prepare_crash_store(const std::string& dir);

// Runs the workload in a child with the failpoint spec and regression switches
// set inside the child. *last_synced is the last phase the child announced.
ChildResult run_crash_workload(const std::string& dir, const std::string& spare_dir, const std::string& failpoints,
                               const std::string& regressions, int* last_synced);

// Reopens the store and checks it against what phase `synced` made durable:
// every durable record present and exact, nothing torn, count() consistent,
// fsck clean, and the store writable again. Returns "" or what is wrong.
std::string check_after_crash(const std::string& dir, int synced);

}  // namespace vstore::testing
