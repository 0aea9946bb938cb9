// Triage: the crash state (ClusterFuzz's rule: the kind plus the first three
// frames that are not sanitizer, libc, allocator, runtime, harness or fuzzer
// frames, normalized), its signature, and matching against known issues.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"

namespace crashgate {

enum class FrameMatch {
  function_prefix,    // the demangled function starts with the pattern
  function_exact,     // the normalized function equals the pattern
  function_contains,  // the function contains the pattern anywhere
  module_contains,    // the module path contains the pattern
  file_contains,      // the source file path contains the pattern
  unsymbolized,       // neither function, module nor source file is known (pattern unused)
};

// One row of the frame-ignore table. Each row carries a frame it must ignore
// and a near miss it must keep; the tests hold every row to both.
struct FrameIgnoreRule {
  std::string_view category;  // sanitizer, libc, loader, allocator, cxx-runtime, harness, fuzzer,
                              // rust-runtime, go-runtime, python-runtime, unsymbolized
  FrameMatch match;
  std::string_view pattern;
  std::string_view ignores;   // example: a function (or module / file, per `match`) this row ignores
  std::string_view keeps;     // example: a near miss this row keeps
};

std::span<const FrameIgnoreRule> frame_ignore_rules();
// The first rule that ignores `frame`, or nullptr when the frame counts for the crash state.
const FrameIgnoreRule* frame_ignore_rule(const Frame& frame);

// Drops argument lists, return types, ABI tags, clone suffixes, addresses and numbers:
// "void ns::f<4>(int) const [clone .cold]" -> "ns::f<N>".
std::string normalize_function(std::string_view function);

// Signal handlers on a stack (signal_handlers.cc). The trampoline a handler
// returns through: glibc's __restore_rt, gdb's "<signal handler called>".
std::optional<std::size_t> signal_trampoline(const std::vector<Frame>& frames);
// When the program raised the outcome's signal itself (SI_TKILL: abort,
// raise) from inside a handler, how many frames at the top of `stack` are
// the handler's (trampoline included); the crash is below them.
std::optional<std::size_t> handler_frames(const Outcome& o, const Thread& stack);
// A SIGABRT from Rust's stack-overflow handler, which aborts only for a fault
// in a guard page; mark_handled_stack_overflow makes the outcome a stack
// overflow of that thread (keeping an attribution that already says so).
bool handled_as_stack_overflow(const Outcome& o, const Thread& stack);
void mark_handled_stack_overflow(Outcome& o, const Thread& stack);

inline constexpr int kCrashStateFrames = 3;
// "<kind> <type>\n<frame>\n<frame>\n<frame>"; "" for ok and harness-error.
std::string crash_state(const Outcome& outcome);
std::string crash_signature(std::string_view state);  // 16 hex digits of XXH3-64

// reports/known-issues.toml: which crashes are already known. Commands read
// it from there (relative to where they run) when no other file is named.
inline constexpr const char* kDefaultKnownIssues = "reports/known-issues.toml";
class KnownIssues {
 public:
  struct Issue {
    std::string id;
    std::string title;
    std::string url;
    std::vector<std::string> signatures;
    std::vector<std::string> states;  // globs (*, ?, [..]) over crash_state
    // An engine's own bug: matches only outcomes of that engine ("lmdb"), and,
    // when `versions` is not empty, of a version one of its globs matches, so
    // an upgrade that keeps the crash blocks until someone looks again.
    std::string engine;
    std::vector<std::string> versions;
    std::string upstream;  // what the engine's own tracker and newer versions say of it (findings print it)
    // Globs over cell ids (cell_glob_match): when given, the issue matches
    // only outcomes of those cells, e.g. a concurrency scenario's, where the
    // crash lands somewhere else each run and only the cell names the bug.
    std::vector<std::string> cells;
  };
  const Issue* find(std::string_view id) const;
  // Loads and validates a file; the failure says "file:line:column: what"
  // (or "file: cannot read the known-issues file").
  static Checked<KnownIssues> load(const std::string& path);
  static Checked<KnownIssues> parse(std::string_view text, const std::string& source_name);

  // `cell_id`: the scenario cell the outcome is of ("" for none: then issues
  // scoped to `cells` do not match).
  std::optional<KnownIssueMatch> match(const Outcome& outcome, std::string_view cell_id = {}) const;
  const std::vector<Issue>& issues() const { return issues_; }

 private:
  std::vector<Issue> issues_;
};

// Fills crash_state, signature and known_issue (when `known` is given).
void triage(Outcome& outcome, const KnownIssues* known, std::string_view cell_id = {});

}  // namespace crashgate
