// Attribution of a fault address: which mapping holds it, which file and
// offset, whether that lies past the file's end or in a thread's stack guard.
// Pure functions over a /proc/PID/maps snapshot, so they can be tested without a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/outcome.h"

namespace crashgate {

struct MapEntry {
  std::uint64_t start = 0, end = 0;
  std::string perms;       // "r-xp"
  std::uint64_t offset = 0;
  std::uint64_t inode = 0;
  std::string path;        // "/data/vectors.bin", "[stack]", "" for anonymous
  std::string line;        // the line as read
  // A core's NT_FILE names a mapping's file but not its inode: its reader sets this instead.
  bool named_file = false;
  bool contains(std::uint64_t address) const { return address >= start && address < end; }
  bool file_backed() const { return (inode != 0 || named_file) && !path.empty() && path.front() == '/'; }
};

// Parses /proc/PID/maps text; lines that do not parse are skipped.
std::vector<MapEntry> parse_maps(std::string_view text);

struct FaultContext {
  int signo = 0;
  int si_code = 0;
  std::uint64_t address = 0;
  std::optional<std::uint64_t> stack_pointer;  // of the faulting thread
  std::optional<std::uint64_t> pc;             // of the faulting thread
  std::int64_t tid = 0;
  std::string thread_name;
  bool main_thread = false;
  std::optional<std::uint64_t> main_stack_limit;  // RLIMIT_STACK soft limit
  // Size of a mapped file now; the runner stats it while the process is stopped.
  std::function<std::optional<std::uint64_t>(const MapEntry&)> file_size;
  // The size is read long after the fault (a core from the field): say "now".
  bool file_size_later = false;
};

// Explains ctx.address against `maps`. Meaningful for SIGSEGV and SIGBUS faults.
Attribution attribute_fault(const FaultContext& ctx, std::span<const MapEntry> maps);

// Addresses below this are "the null page" (Linux's default vm.mmap_min_addr).
inline constexpr std::uint64_t kNullPageLimit = 64 * 1024;

}  // namespace crashgate
