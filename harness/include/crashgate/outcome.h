// The Outcome of one observed run: how it ended, where, and why. Produced by
// the runner (runner.h), serialized by result_json.h, explained by summary_text.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/outcome_kind.h"

namespace crashgate {

// One stack frame, symbolized. Fields a symbolizer could not resolve stay empty/0.
struct Frame {
  std::string function;        // demangled, e.g. "vstore::Store::count() const"
  std::string file;            // source file, as recorded in the debug info
  int line = 0;
  int column = 0;
  std::string module;          // path of the ELF object holding the code
  std::uint64_t module_offset = 0;  // pc minus the module's load address
  std::uint64_t pc = 0;
  bool operator==(const Frame&) const = default;
};

// One stack: a live thread unwound out of process, or a stack printed by a sanitizer.
struct Thread {
  std::int64_t tid = 0;        // kernel thread id; 0 when only a sanitizer name is known
  std::string name;            // /proc comm ("worker-3") or the sanitizer's ("T1", "main thread")
  std::string role;            // "crashed", "running", or a sanitizer stack's role:
                               // "access", "allocation", "free", "previous-access",
                               // "thread-creation", "leak", "mutex"
  std::vector<Frame> frames;
  std::string error;           // why unwinding this thread stopped early, if it did
  bool operator==(const Thread&) const = default;
};

// Where a fault address lies: the part of crashgate that says what went wrong.
struct Attribution {
  std::string description;     // one sentence: "read at offset 12,288 of vectors.bin, which is 4,096 bytes long"
  std::string access;          // "read", "write", "execute" or "access" when the kernel does not say
  std::string mapping;         // the /proc/PID/maps line holding the address ("" when unmapped)
  std::string file;            // the mapped file, if file-backed
  std::optional<std::uint64_t> file_offset;
  std::optional<std::uint64_t> file_size;  // size of the file when the fault was observed
  bool past_eof = false;       // the page lies beyond the file's end (the SIGBUS of every field report)
  bool null_page = false;      // the address is in the first 64 KiB: a null pointer plus an offset
  bool stack_guard = false;    // in a thread's stack guard: a stack overflow
  std::optional<std::int64_t> stack_thread;        // the thread whose stack guard it is
  std::string stack_thread_name;
  std::optional<std::uint64_t> thread_stack_size;  // that thread's stack size in bytes
  bool operator==(const Attribution&) const = default;
};

// How a driver step ended, judged against its `expect`: ok (it ended as its
// expect allows: an expected error is ok), error (it ended otherwise), or died
// (it started and never ended: the process died or hung in it).
enum class StepStatus { ok, error, died };
std::string_view to_string(StepStatus status);
std::optional<StepStatus> parse_step_status(std::string_view name);

// A driver step as reported over the driver protocol (driver_protocol.h).
struct StepRecord {
  int index = 0;
  std::string op;
  StepStatus status = StepStatus::died;
  std::string code;            // the error code the step ended with ("corrupt", "io", ...), "" when ok
  std::string message;
  double duration_ms = 0;
  // What the step measured, as its driver said in step-end (a search's recall, ...); empty for most steps.
  std::map<std::string, double> measured;
  bool operator==(const StepRecord&) const = default;
};

// A bounded capture of stdout or stderr: the first and the last bytes, and how many there were.
struct OutputExcerpt {
  std::string head;
  std::string tail;            // empty unless the output exceeded the head
  std::uint64_t total_bytes = 0;
  bool truncated() const { return total_bytes > head.size() + tail.size(); }
  // head + tail with a marker for what was dropped between them.
  std::string text() const;
  bool operator==(const OutputExcerpt&) const = default;
};

struct KnownIssueMatch {
  std::string id;
  std::string title;
  std::string url;
  std::string matched_by;      // "signature" or "state"
  bool operator==(const KnownIssueMatch&) const = default;
};

// The engine a driver ran and its version as loaded, from the driver's hello.
struct EngineId {
  std::string name;     // "lmdb"
  std::string version;  // "0.9.24"; "" when the driver does not know it
  bool operator==(const EngineId&) const = default;
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::harness_error;
  std::string detail;                      // one line a human reads first
  std::optional<int> exit_code;            // when the process exited
  std::optional<int> signal;               // the fatal signal's number
  std::optional<int> si_code;
  std::optional<std::uint64_t> fault_address;
  std::string check;                       // sanitizer check and access: "heap-buffer-overflow READ 4"
  std::string sanitizer_summary;           // the SUMMARY: line, verbatim
  std::optional<Attribution> attribution;
  std::vector<Thread> threads;             // all threads at the crash, or the sanitizer's stacks
  int crashing_thread = -1;                // index into threads; -1 when there is none
  std::int64_t crashed_pid = 0;            // the process that died (may be a descendant)
  std::string crash_state;                 // "<kind> <type>" then up to 3 frames, one a line
  std::string signature;                   // 16 hex digits of XXH3 over crash_state
  std::optional<KnownIssueMatch> known_issue;
  std::optional<EngineId> engine;          // when a driver said which engine it ran
  std::int64_t duration_ms = 0;
  double diagnosis_ms = 0;                 // crashgate's time diagnosing the crash, the process stopped
  std::int64_t peak_rss_kb = 0;
  OutputExcerpt stdout_excerpt;
  OutputExcerpt stderr_excerpt;
  std::vector<std::string> command;        // argv as run
  std::string repro;                       // a shell command that reproduces the run
  std::vector<StepRecord> steps;           // driver steps, when the run spoke the driver protocol
  std::optional<int> failed_step;          // index of the step that died or ended in error
  std::vector<std::string> notes;          // what else crashgate saw: leftover processes killed, ...
  bool operator==(const Outcome&) const = default;
};

std::string signal_name(int signo);              // "SIGBUS"; "signal 42" when unnamed
std::optional<int> parse_signal_name(std::string_view name);  // "SIGBUS" or "BUS" -> 7
std::string si_code_name(int signo, int si_code);  // "BUS_ADRERR", "SEGV_MAPERR", "SI_TKILL", ...
// "SIGBUS (BUS_ADRERR): read at offset ... of data.mdb, ...": an outcome's
// signal, code and attribution (or fault address) in one phrase.
std::string signal_detail(const Outcome& outcome);

}  // namespace crashgate
