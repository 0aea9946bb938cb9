// `crashgate record`: what a program asks of the file system under one
// directory, as a log a crash-state model can replay. Engine-neutral: the
// program is traced (ptrace, stopping only on the file calls a seccomp filter
// names), not instrumented.
//
// A recording directory holds:
//   initial/      the directory's files before the program ran
//   calls.jsonl   one JSON object per recorded call, in the order they completed
//   data.bin      the bytes each write carried (a call's data_at, length)
//   record.json   the command, the directory, the counts, how dirty pages were found
//
// Writes through MAP_SHARED mappings of files under the directory appear as
// calls named "mapped-write": at each persistence point (msync, fsync or
// fdatasync of a mapped file, munmap, the process's exit) every page of the
// mapping whose bytes differ from what was recorded of it becomes one, with
// `found_at` the call that found it. This kernel lacks CONFIG_MEM_SOFT_DIRTY
// on the machines crashgate runs on, so pages are compared, a hash a page.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/checked.h"

namespace crashgate {

class Cancellation;

struct FsCall {
  std::uint64_t seq = 0;          // 1, 2, ... in the order calls completed
  int pid = 0;                    // the process (thread group)
  int tid = 0;
  std::string call;               // the system call ("pwrite64", "renameat2"), "mapped-write" or "event"
  std::string kind;               // what it does (fs_syscalls.h): write, rename, persist, ...
  std::string path;               // absolute; for fd calls the fd's file
  std::string path2;              // rename's and link's new name
  std::optional<std::uint64_t> offset;  // file offset of a write, fallocate, sync_file_range, mapping
  std::optional<std::uint64_t> length;  // bytes written, new size, range length
  std::optional<std::uint64_t> addr;    // mmap, munmap, msync, mremap: the address
  std::int64_t flags = 0;         // the call's flags argument, where it has one; a write's: its fd's open flags (O_DSYNC: durable on return)
  std::int64_t result = 0;        // the return value; -errno when it failed
  std::string found_at;           // mapped-write: msync, fsync, fdatasync, munmap, exit
  std::optional<std::uint64_t> data_at;  // where its bytes start in data.bin (writes that carried data)
  // The calling thread's stack at the call, innermost first, each frame "MODULE+0xOFFSET"
  // (the module's path; symbolized when reported). A mapped-write has the stack of the
  // call that found it.
  std::vector<std::string> stack;
};

struct RecordOptions {
  std::vector<std::string> argv;  // the command; argv[0] looked up in PATH when it has no '/'
  std::string dir;                // record calls on files under this directory
  std::string out;                // the recording directory (created; must not exist or be empty)
  std::chrono::milliseconds wall{std::chrono::minutes(10)};
  const Cancellation* cancel = nullptr;
  // A crashgate driver's event pipe: the command gets this fd (on /dev/null)
  // and CRASHGATE_EVENT_FD, and each write to it is logged in place as a call
  // named "event" whose bytes are the event line: which steps had returned
  // (a sync's acknowledgement) at each point of the log. -1: none.
  int events_fd = -1;
  int stack_frames = 16;  // frames kept of each call's stack (16: past a C++ stream's five to the engine and its caller); 0: none taken
  std::vector<std::pair<std::string, std::string>> env;  // set for the command, over crashgate's own
};

struct RecordSummary {
  std::uint64_t calls = 0;          // recorded calls, mapped writes included
  std::uint64_t mapped_writes = 0;
  std::uint64_t events = 0;         // driver event lines logged (RecordOptions::events_fd)
  std::uint64_t data_bytes = 0;     // bytes in data.bin
  std::uint64_t stops = 0;          // seccomp stops: every traced call, on any file
  double seconds = 0;
  std::optional<int> exit_code;     // the command's, when it exited
  std::optional<int> signal;        // when a signal ended it
  bool timed_out = false;
  bool cancelled = false;
  std::string dirty_pages_by;       // "page-compare"
};

// Runs the command traced and writes the recording. A failure: the directory
// to record is missing, the recording directory cannot be written, the
// command cannot start, or tracing is refused (the message says which).
Checked<RecordSummary> record_fs_calls(const RecordOptions& options);

// A recording's calls.jsonl, checked: a bad line is an error naming its line.
Checked<std::vector<FsCall>> read_fs_calls(const std::string& recording_dir);

}  // namespace crashgate
