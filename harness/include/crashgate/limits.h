// Resource limits for a run, and the strict text forms they are written in
// ("2MiB", "30s"). One table names each limit for the CLI, scenario files and docs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace crashgate {

struct Limits {
  std::optional<std::uint64_t> stack;          // RLIMIT_STACK of the main thread (glibc also sizes new threads by it)
  std::optional<std::uint64_t> worker_stack;   // advisory stack size for a driver's worker threads (env)
  std::optional<std::uint64_t> address_space;  // RLIMIT_AS
  std::optional<std::uint64_t> open_files;     // RLIMIT_NOFILE
  std::optional<std::chrono::milliseconds> cpu;  // RLIMIT_CPU (whole seconds, rounded up)
  std::chrono::milliseconds wall{30'000};        // killed (SIGTERM, then SIGKILL) after this long
  std::uint64_t core = 0;                        // RLIMIT_CORE: no core files unless asked
  bool operator==(const Limits&) const = default;
};

enum class LimitUnit { bytes, count, duration };

// X(member, scenario key, CLI flag, unit, meaning)
#define CRASHGATE_LIMITS(X)                                                                          \
  X(stack, "stack", "--stack", bytes, "main-thread stack size (RLIMIT_STACK)")                       \
  X(worker_stack, "worker_stack", "--worker-stack", bytes,                                           \
    "worker-thread stack size, passed to the program as CRASHGATE_WORKER_STACK and RUST_MIN_STACK") \
  X(address_space, "address_space", "--as", bytes, "address-space size (RLIMIT_AS)")                 \
  X(open_files, "open_files", "--nofile", count, "open file descriptors (RLIMIT_NOFILE)")            \
  X(cpu, "cpu", "--cpu", duration, "CPU time (RLIMIT_CPU)")                                          \
  X(wall, "wall", "--timeout", duration, "wall-clock time before the process group is killed")       \
  X(core, "core", "--core", bytes, "core file size (RLIMIT_CORE; 0 by default)")

struct LimitField {
  std::string_view member;
  std::string_view scenario_key;
  std::string_view cli_flag;
  LimitUnit unit;
  std::string_view meaning;
};

std::span<const LimitField> limit_fields();

// Parses the text form of one field into `limits`; on failure returns why, naming the field.
std::optional<std::string> set_limit(Limits& limits, const LimitField& field, std::string_view text);

// "4096", "512K", "8MiB", "1G" (K/M/G/T and KiB/MiB/GiB/TiB are both powers of 1024).
// The whole text must be a size: "8MB!" is an error, not 8 MiB.
std::optional<std::uint64_t> parse_size(std::string_view text);
// "30s", "500ms", "2m", "1h", "1.5s"; a bare number is seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<std::uint64_t> parse_count(std::string_view text);

std::string format_size(std::uint64_t bytes);   // "2 MiB", "4,096 bytes"
std::string format_duration(std::chrono::milliseconds d);  // "30s", "1500ms"
std::string format_thousands(std::uint64_t n);  // "12,288"

}  // namespace crashgate
