// ELF core files from the field (`coredumpctl dump`, a `core` pattern): their
// notes read (threads, signal, mapped files), their threads unwound with
// libdwfl, and the fault attributed to the file it hit, as for a live crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/fault_attribution.h"
#include "crashgate/outcome.h"

namespace crashgate {

// True when `head` (a file's first bytes, 20 or more) is an ELF core.
bool looks_like_core(std::string_view head);

// What a core's notes and program headers say, before any unwinding.
struct CoreDump {
  struct ThreadStatus {
    std::int64_t tid = 0;
    int signal = 0;                  // pr_cursig: the signal the thread was stopped by
    std::uint64_t pc = 0, sp = 0;
  };
  std::string path;
  std::int64_t pid = 0;
  std::string command;               // NT_PRPSINFO's pr_fname (16 bytes at most)
  std::string arguments;             // NT_PRPSINFO's pr_psargs (80 bytes at most)
  std::vector<ThreadStatus> threads; // NT_PRSTATUS in the core's order: the dumping thread first
  std::optional<int> signal, si_code;            // NT_SIGINFO (else the first thread's pr_cursig)
  std::optional<std::uint64_t> fault_address;    // NT_SIGINFO's si_addr, for faults
  std::vector<MapEntry> maps;        // every mapping: PT_LOAD ranges and permissions, NT_FILE paths and offsets
  std::string executable;            // NT_FILE's path of the mapping holding AT_ENTRY, when known
  std::uint64_t file_size = 0;       // bytes on disk
  std::uint64_t expected_size = 0;   // bytes its program headers say it has
  bool truncated() const { return file_size < expected_size; }
};

// Reads the notes and the program headers. Fails, naming the file, for a file
// that is not an ELF core, a core of another architecture than this
// machine's, or notes cut off or malformed. A core whose memory is cut short
// (the notes whole) is read, and truncated() says so.
Checked<CoreDump> read_core(const std::string& path);

struct CoreTriageOptions {
  std::string executable;       // --exe: the program that dumped; else the core's own record of it
  std::string debuginfo_path;   // --debuginfo-path: elfutils' form, ":"-separated directories
  int max_frames = 256;
};

// The crash in `path` as an Outcome: signal, code and fault address,
// attribution against the mapped files (their size now, where they exist
// here) and the stack guards, every thread unwound and symbolized (the
// crashing one first, role "crashed"). Fails as read_core does.
Checked<Outcome> outcome_from_core(const std::string& path, const CoreTriageOptions& options = {});

}  // namespace crashgate
