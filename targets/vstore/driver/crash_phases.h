// The phased write workload a second process runs with one failpoint armed
// (a crash, or an I/O fault), and what each phase leaves durable, so that the
// first process can check the store after that process died or gave up.
//
// Phases, from ids [0, first) made by earlier steps and new ids from `first`:
//   0  a spare store is created and closed (the create sites)
//   1  add [first, first+1500); sync
//   2  remove the even ids below first; add [first+1500, first+2000); sync
//   3  compact (committed by its own MANIFEST rename)
//   4  add [first+2000, first+2100); remove [first, first+100);
//      delete_where file_path IN (the paths of first+2090 .. first+2099); sync
// Before opening, the process leaves the store as an interrupted session
// would (an orphaned generation file, the graph's dirty mark set), so that
// open's recovery sites are on the path too.
#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace crashgate::vstore_driver {

inline constexpr int kLastPhase = 4;

// Ids live once `phase` is durable, given the ids live before phase 1.
std::set<uint64_t> live_after_phase(int phase, const std::set<uint64_t>& before, uint64_t first);

// Ids whose presence a phase after `phase` may have changed (added or removed):
// after a crash past `phase` they may be either there or not.
std::set<uint64_t> in_flux_after_phase(int phase, const std::set<uint64_t>& before, uint64_t first);

// The second process's side: runs the phases on the store in `store_dir`,
// appending "phase K", "error CODE MESSAGE" and "fired N" lines to `report`.
// Returns the process's exit status.
int run_phased_writes(const std::string& store_dir, const std::string& spare_dir, const std::string& report,
                      const std::string& failpoints, const std::string& site, uint64_t first, uint64_t seed);

}  // namespace crashgate::vstore_driver
