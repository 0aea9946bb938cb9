// `crashgate crash-check`: a scenario cell's run recorded (crashgate record,
// with the driver's record model in its events), the states a power cut may
// leave at its crash points (crash_states.h), and for each state a recovery
// cell: the state's store imported into a fresh work directory, then `verify`
// against what the crash must have kept (record_model.h). The recovery cells
// run and are judged as any cell is, so results.json, the reports, the known
// issues and `crashgate repro` all apply to them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/crash_states.h"
#include "crashgate/record_model.h"
#include "crashgate/scenario.h"

namespace crashgate {

// The driver's `records` events in a recording, in log order. An event line
// that is not a records event is skipped; a records event that does not parse
// is an error naming its seq.
Checked<std::vector<ModelEvent>> model_events(const Recording& recording);

// The calls a phase of the cell made: from the step-start event of step
// `first` through the step-end event of step `last` (the log's end when that
// step never ended), as [first seq, last seq]. A failure when step `first`
// never started (the run ended before it: there is no crash point to check).
Checked<std::pair<std::uint64_t, std::uint64_t>> phase_calls(const Recording& recording, int first, int last);

// The crash points to check among the calls first..last (seqs): all of them
// when `sample` is 0 or covers them, else `sample` chosen by `seed` (the same
// for the same seed), in order.
std::vector<std::uint64_t> sample_crash_points(std::uint64_t first, std::uint64_t last, std::uint64_t sample, std::uint64_t seed);

// The cell that checks recovery from one state whose files are in
// `state_dir` (materialize_crash_state's target; the store is its `store`):
// step 0 imports the store, step 1 verifies it against `expected`. It must end
// ok; before anything was acknowledged an error (nothing there to open) is
// allowed too, a crash or a sanitizer report never. Its id is the recorded
// cell's with "@state-N".
Cell recovery_cell(const Cell& recorded, std::size_t state_number, const CrashExpectation& expected,
                   const std::string& state_dir);

// Where in the program a call was made, as recorded (module+offset): its
// first frame outside the language runtimes (the C and C++ libraries, the
// loader, Python's interpreter), else its first outside the C library; ""
// when no stack was kept.
std::string call_site(const FsCall& call);
// The frame outside the runtimes that called call_site's ("" when there is
// none): an engine's I/O layer (vstore's PosixEnv::write_at) says where the
// bytes went out, its caller which of the engine's writes it was.
std::string caller_of_site(const FsCall& call);

// call_site and caller_of_site of a stack, also past a sanitizer's
// interceptors (ASan and TSan link theirs into the program itself, so only
// the function's name tells them apart): `describe` names a frame's function
// (OfflineSymbolizer::describe); without one, only the modules are read.
std::pair<std::string, std::string> site_and_caller(const std::vector<std::string>& stack,
                                                    const std::function<std::string(const std::string&)>& describe);

}  // namespace crashgate
