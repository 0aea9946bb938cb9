// vstore/regression.h: switches that put historical crash classes back, so that
// crashgate can prove it still catches each one. Compiled in only when the build
// is configured with VSTORE_REGRESSIONS=ON; otherwise regression_enabled() is a
// constant false and every regression path is dead code. With no switch set,
// such a build behaves exactly as release.
//
// Switches come from VSTORE_REGRESSION=<id>[,<id>...] (read once, at first use)
// or from set_regressions().
#pragma once

#include <string>
#include <string_view>

#include "vstore/status.h"

namespace vstore {

// X(enumerator, id, field report, what the bug does, how it shows)
// "How it shows" is what a harness must observe to call the bug caught, as
// alternatives separated by '|', each `kind[:detail][@attribution]` in
// crashgate's outcome vocabulary: `signal:SIGBUS@past-eof` (SIGBUS, the fault
// past a mapped file's end), `stack-overflow`, `tsan:data-race`, `asan` (any
// ASan check), `error:wrong-result` (the engine answered, wrongly: lost, torn
// or foreign records). A failure of any other kind is not this bug.
#define VSTORE_REGRESSIONS_TABLE(X)                                                                \
  X(unvalidated_header, "unvalidated-header", "000, 001",                                          \
    "open trusts the header: maps the sizes it claims and reads past the end of a truncated file", \
    "signal:SIGBUS@past-eof|asan:BUS")                                                                 \
  X(stale_size, "stale-size", "004 #1",                                                            \
    "the mapped size is not updated on create or grow, so bounds checks reject valid records",     \
    "error:corrupt|error:wrong-result|error:not-found")                                            \
  X(overflowing_bounds_check, "overflowing-bounds-check", "004 #2",                                \
    "bounds are checked as offset + len > size, which wraps for offsets near 2^64",                \
    "signal:SIGSEGV|signal:SIGBUS|asan")                                                           \
  X(unchecked_mapping, "unchecked-mapping", "004 #5",                                              \
    "the header is read through the mapping without checking that mmap succeeded",                 \
    "signal:SIGSEGV|asan")                                                                         \
  X(unlocked_grow, "unlocked-grow", "004 #4",                                                      \
    "grow unmaps and remaps while readers read, without exclusion",                                \
    "tsan:data-race|signal:SIGSEGV|signal:SIGBUS|asan")                                            \
  X(view_outlives_guard, "view-outlives-guard", "004 (known limitations)",                         \
    "a record view keeps a pointer into the mapping after its guard is released",                  \
    "tsan:data-race|signal:SIGSEGV|signal:SIGBUS|asan|error:wrong-result")                         \
  X(in_place_compaction, "in-place-compaction", "002",                                             \
    "compaction truncates and rewrites the live file that other mappings still read",              \
    "signal:SIGBUS@past-eof")                                                                      \
  X(offset32, "offset32", "003 (vector 2)",                                                        \
    "compaction computes file offsets in 32 bits, which wrap past 4 GiB",                          \
    "error:wrong-result|error:corrupt")                                                            \
  X(ack_before_sync, "ack-before-sync", "-",                                                       \
    "sync returns before the data reaches the file, so a crash loses acknowledged records",        \
    "error:wrong-result|error:corrupt")                                                            \
  X(recursive_filter, "recursive-filter", "003",                                                   \
    "filters are parsed by recursive descent and walked recursively: deep input overflows the "    \
    "stack",                                                                                       \
    "stack-overflow")                                                                              \
  X(toctou_neighbor, "toctou-neighbor", "004 #3",                                                  \
    "a neighbour id is looked up, then used without checking it is still valid under a "           \
    "concurrent remove",                                                                           \
    "asan|signal:SIGSEGV|signal:SIGBUS|error:wrong-result")                                        \
  X(unlocked_links, "unlocked-links", "-",                                                         \
    "search reads neighbour lists without synchronisation while insert writes them",               \
    "tsan:data-race")                                                                              \
  X(unchecked_neighbor_id, "unchecked-neighbor-id", "000",                                         \
    "neighbour ids read from the index file are used without a range check",                       \
    "signal:SIGSEGV|signal:SIGBUS|asan")

enum class Regression : unsigned {
#define VSTORE_X(e, id, report, what, shows) e,
  VSTORE_REGRESSIONS_TABLE(VSTORE_X)
#undef VSTORE_X
  count_
};

struct RegressionInfo {
  Regression regression;
  std::string_view id;
  std::string_view field_report;
  std::string_view what;
  std::string_view shows_as;  // see the table's comment
};

// Every regression switch, in table order (whether or not compiled in).
const RegressionInfo* regression_table(size_t* size);
// Whether this build has the switches compiled in.
constexpr bool regressions_compiled_in() {
#ifdef VSTORE_REGRESSIONS_ENABLED
  return true;
#else
  return false;
#endif
}

#ifdef VSTORE_REGRESSIONS_ENABLED
// True when switch `r` is on. Cheap: one relaxed atomic load after first use.
bool regression_enabled(Regression r);
#else
constexpr bool regression_enabled(Regression) { return false; }
#endif

// Replaces the set of active switches with a comma-separated id list ("" = none).
// invalid-argument naming the unknown id; failed-precondition style invalid-argument
// when switches are not compiled into this build and the list is not empty.
Status set_regressions(std::string_view ids);

// The error, if any, in VSTORE_REGRESSION as read from the environment (an
// unknown id, or switches asked of a build without them). Store open/create
// return it, so that a mistyped id never silently tests the hardened engine.
Status regression_environment_status();

}  // namespace vstore
