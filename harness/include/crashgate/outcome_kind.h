// The outcome kinds: how a run ended. One table drives the enum, the names in
// JSON and scenario files, `crashgate exec`'s exit codes and its --help text.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/checked.h"

namespace crashgate {

// X(enumerator, name, exit code of `crashgate exec`, meaning)
// Exit codes 1 and 2 are reserved for crashgate's own usage errors; 130 for Ctrl-C.
#define CRASHGATE_OUTCOME_KINDS(X)                                                              \
  X(ok, "ok", 0, "the command exited with status 0")                                            \
  X(error, "error", 10, "a clean error from the engine: a driver step ended with an error code") \
  X(exit, "exit", 11, "the command exited with a non-zero status, no crash")                    \
  X(signal, "signal", 12, "killed by a signal (SIGSEGV, SIGBUS, SIGABRT, SIGFPE, ...)")         \
  X(stack_overflow, "stack-overflow", 13, "a fault in a thread's stack guard")                  \
  X(asan, "asan", 14, "an AddressSanitizer report")                                             \
  X(ubsan, "ubsan", 15, "an UndefinedBehaviorSanitizer report")                                 \
  X(tsan, "tsan", 16, "a ThreadSanitizer report")                                               \
  X(lsan, "lsan", 17, "a LeakSanitizer report")                                                 \
  X(timeout, "timeout", 18, "the wall-clock or CPU limit ran out")                              \
  X(oom, "oom", 19, "out of memory: address-space limit, allocator failure or kernel OOM kill") \
  X(harness_error, "harness-error", 3, "crashgate could not run or observe the command (never the target's fault)")

enum class OutcomeKind {
#define CRASHGATE_KIND_ENUM(id, name, code, meaning) id,
  CRASHGATE_OUTCOME_KINDS(CRASHGATE_KIND_ENUM)
#undef CRASHGATE_KIND_ENUM
};

struct OutcomeKindInfo {
  OutcomeKind kind;
  std::string_view name;
  int exit_code;
  std::string_view meaning;
};

// Every kind, in table order.
std::span<const OutcomeKindInfo> outcome_kinds();
std::string_view to_string(OutcomeKind kind);
int exit_code_of(OutcomeKind kind);
// The kind named `name` ("stack-overflow"), or nothing when no kind has that name.
std::optional<OutcomeKind> parse_outcome_kind(std::string_view name);

// An expectation's kinds: one, or alternatives written "ok|error" (a damaged
// store may be refused or read, never crashed on).
using OutcomeKinds = std::vector<OutcomeKind>;
// Fails naming the first word that is no kind, and the kinds there are.
Checked<OutcomeKinds> parse_outcome_kinds(std::string_view text);
std::string to_string(const OutcomeKinds& kinds);  // "ok|error"

}  // namespace crashgate
