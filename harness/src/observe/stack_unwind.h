// Out-of-process unwinding and symbolization with elfutils' libdwfl.
// Contract: every thread to unwind is ptrace-stopped by the calling thread
// (ptrace requests only work from the tracer thread).
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crashgate/outcome.h"

namespace crashgate {

struct ProcessStacks {
  std::vector<Thread> threads;   // the crashing thread (if any) first
  std::string error;             // set when the process could not be attached at all
};

// Unwinds every thread of `pid`; `crashing_tid` gets role "crashed" and comes first.
ProcessStacks unwind_process(pid_t pid, pid_t crashing_tid, int max_frames = 256);

struct Registers {
  std::uint64_t pc = 0;
  std::uint64_t sp = 0;
};
// The registers of a ptrace-stopped thread.
std::optional<Registers> read_registers(pid_t tid);

// Shared with the core-file reader (field/core_file.cc), which unwinds a dead
// process's threads through the same libdwfl calls.
// `pc`'s module, function, file and line; `activation`: pc is where the
// thread was stopped, not a return address (which is looked up at pc - 1).
Frame symbolize(Dwfl* dwfl, std::uint64_t pc, bool activation);
// Walks one thread's frames into thread.frames (at most max_frames); sets
// thread.error only when the walk found no frame at all.
void unwind_frames(Dwfl* dwfl, Dwfl_Thread* dwfl_thread, Thread& thread, int max_frames);

std::string thread_name(pid_t pid, pid_t tid);  // /proc/PID/task/TID/comm
std::string demangle(const char* symbol);

}  // namespace crashgate
