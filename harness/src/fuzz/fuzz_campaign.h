// `crashgate fuzz`: runs libFuzzer on one target after another (N processes
// over the whole corpus, restarted after each crash; see fuzzer_pool.h), turns each crash artifact into a triaged, deduplicated, minimized crash
// directory while the fuzzer keeps running, and at the end merges and prunes
// the working corpus. fuzz_report.h writes the morning report from the result.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"
#include "crashgate/runner.h"

namespace crashgate {

struct FuzzOptions {
  std::vector<std::string> targets;            // in the order they run
  std::chrono::milliseconds time{std::chrono::hours(8)};  // the whole campaign, split evenly between targets
  unsigned jobs = 1;                           // libFuzzer processes at a time
  bool fork = false;                           // libFuzzer's own -fork=jobs instead of restarting processes
  std::string regression;                      // VSTORE_REGRESSION for every run ("" = the hardened engine)
  std::optional<std::uint64_t> seed;           // libFuzzer -seed
  std::string out_dir;                         // crashes/, <target>/, report.md, results.json
  std::string fuzzer_dir;                      // where the libFuzzer binaries are (build/fuzz/fuzz)
  std::string corpora_dir;                     // corpora/: <target>/seed, .dict, .options
  std::string corpus_dir;                      // working corpora, one folder per target (kept across runs)
  std::chrono::seconds minimize_time{60};      // per distinct crash
  bool merge = true;                           // merge and prune the working corpus at the end
  bool until_crash = false;                    // stop fuzzing a target at its first crash artifact (time-to-find runs)
  std::vector<std::string> command_line;
};

struct FuzzCrash {
  std::string target;
  std::string signature;       // "" when the input did not crash again
  std::string dir;             // OUT/crashes/<target>-<signature>
  std::vector<std::string> inputs;  // every artifact with this signature, first first
  std::int64_t found_after_ms = 0;  // since the target's fuzzing began
  std::uint64_t input_bytes = 0, minimized_bytes = 0;
  bool minimized = false;
  std::string minimize_note;
  std::string repro;           // shell command, from the crash directory
  Outcome outcome;             // the reproduction of the first input (of the minimized one when kept)
};

struct FuzzTargetSummary {
  std::string target;
  std::string binary;
  std::int64_t duration_ms = 0;
  std::uint64_t execs = 0, execs_per_s = 0, coverage = 0, features = 0;
  std::uint64_t corpus_before = 0, corpus_after = 0;  // files in the working corpus
  std::uint64_t crash_artifacts = 0;
  std::uint64_t fuzzer_runs = 0;  // libFuzzer processes started, restarts included
  int fuzzer_exit = 0;            // of the last run that failed without a crash artifact
  std::vector<std::string> notes;  // what went wrong around the fuzzer (merge failed, ...)
};

struct FuzzCampaign {
  std::string started_at;      // ISO 8601 UTC
  std::int64_t duration_ms = 0;
  bool interrupted = false;
  FuzzOptions options;
  std::vector<FuzzTargetSummary> targets;
  std::vector<FuzzCrash> crashes;  // one per (target, signature), in order found
};

// Where `crashgate fuzz` reports as it goes: a live status line on a terminal
// (`live`), otherwise one line per event and a status line every minute.
struct FuzzConsole {
  std::FILE* out = stderr;
  bool live = false;
  int width = 100;
};

// Runs the campaign; stops early (children stopped, report still due) when `cancel` fires.
// Errors that prevent any fuzzing (a missing binary, an unreadable .options) are its failure.
Checked<FuzzCampaign> run_fuzz_campaign(const FuzzOptions& options, const Cancellation& cancel,
                                        const FuzzConsole& console);

// How the campaign runs libFuzzer, in words ("1 libFuzzer process over the whole corpus, ...").
std::string fuzzer_mode(const FuzzOptions& o);

// The targets corpora_dir knows (one folder per target, holding seed/).
std::vector<std::string> known_fuzz_targets(const std::string& corpora_dir);

}  // namespace crashgate
