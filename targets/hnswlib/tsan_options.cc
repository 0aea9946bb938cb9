// TSan's defaults for every binary that compiles hnswlib in (the driver and
// the hnswlib_load fuzz target; targets/hnswlib/CMakeLists.txt): deadlock
// detection off. Data races, and everything else TSan checks, stay on.
//
// hnswlib 0.6.2 keeps one mutex per element (link_list_locks_): addPoint holds
// the new element's (hnswalg.h:1036) while searchBaseLayer takes each visited
// element's (hnswalg.h:192), and the next addPoint takes them the other way
// round. TSan's deadlock detector calls that a lock-order inversion on one
// thread with no workload (hnswlib's design; the README's "Engines we did not
// write" says so), and tracking thousands of such locks makes it slow: a tsan
// cell creating 2,000 records took more than its 30 s limit with it, 5 s
// without, and when its history ran out it reported inversions without stacks,
// which no suppression by function name can match. Left on, it hides the races
// behind it, and the fuzz target's template index (24 addPoints) never gets built.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
extern "C" const char* __tsan_default_options() { return "detect_deadlocks=0"; }
#endif
#endif
