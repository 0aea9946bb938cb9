// Which of vstore::Store's public entry points each way of driving the store
// reaches: the workload threads (`spawn-workload`), the second processes, the
// `read` modes and the store ops a scenario may run after damaging a file.
// `--list entry-points` prints, per entry point, what drives it concurrently
// and what drives it on a damaged store; a test checks that each entry point
// is driven both ways by some scenario of the catalog, or says why it cannot be.
#pragma once

#include <string_view>
#include <vector>

namespace crashgate::vstore_driver {

// A way of driving the store, by name, and the entry points it calls.
struct Drive {
  std::string_view name;
  std::vector<std::string_view> calls;
};

// What one workload thread may do in a round (workloads.cc runs these by name).
const std::vector<Drive>& workload_actions();

// spawn-workload's `workload` values and the actions each cycles through.
struct WorkloadKind {
  std::string_view name;
  std::vector<std::string_view> actions;
};
const std::vector<WorkloadKind>& workload_kinds();
std::vector<std::string> workload_kind_names();

// read's `what` values (read a store as it is, damaged or not).
const std::vector<Drive>& read_modes();
std::vector<std::string> read_mode_names();

// The ops a scenario may run after damaging a file, each reaching the store
// through these entry points (an op's store open comes first: `open`).
const std::vector<Drive>& damaged_ops();

// The second-process actions that open the store in another process while
// this one has it open (crash-writes and phased-writes close it here first).
const std::vector<Drive>& second_process_actions();

// The public entry points of vstore::Store (store.h), with the reason when one
// cannot be driven a way at all (empty: it must be).
struct EntryPoint {
  std::string_view name;
  bool writes = false;
  std::string_view never_concurrent;  // why no workload runs it beside other calls
  std::string_view never_damaged;     // why no cell runs it on a damaged store
};
const std::vector<EntryPoint>& entry_points();

// `--list entry-points`: a JSON line per entry point: name, writes, and the
// drives that reach it concurrently ("spawn-workload:KIND",
// "second-process:ACTION") and on a damaged store ("read:WHAT", "OP"), with
// the reasons of the table when there are none.
int print_entry_points();

}  // namespace crashgate::vstore_driver
