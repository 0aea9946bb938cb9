// `crashgate triage`: a crash from the field (a core file, a crash log)
// explained as an Outcome, matched against the known issues, and compared
// with the crashes of earlier runs and fuzz runs.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"
#include "crashgate/store_triage.h"
#include "crashgate/triage.h"

namespace crashgate {

// X(enumerator, name, what it is): the kinds of input triage takes.
#define CRASHGATE_TRIAGE_INPUTS(X)                                                                    \
  X(core, "core", "an ELF core file (coredumpctl dump, or a `core` pattern with ulimit -c set)")      \
  X(log, "log", "a crash log: sanitizer, libFuzzer, crashgate exec, Python, Rust, glibc, kernel, gdb or Go output") \
  X(store, "store", "an engine's data directory that crashes it (a directory; the engine from its files or --target)")

enum class TriageInput {
#define CRASHGATE_TRIAGE_INPUT_ENUM(id, name, meaning) id,
  CRASHGATE_TRIAGE_INPUTS(CRASHGATE_TRIAGE_INPUT_ENUM)
#undef CRASHGATE_TRIAGE_INPUT_ENUM
};
struct TriageInputInfo {
  TriageInput kind;
  std::string_view name;
  std::string_view meaning;
};
std::span<const TriageInputInfo> triage_inputs();
std::string_view to_string(TriageInput kind);
// Fails naming the word and the kinds there are.
Checked<TriageInput> parse_triage_input(std::string_view name);
// What `path` holds, from its content: a store (a directory), a core (ELF,
// ET_CORE), else a log (text). Fails naming the path for what is none of
// them: a missing file, another ELF file, compressed or binary data.
Checked<TriageInput> detect_triage_input(const std::string& path);

// A crash seen before: a known issue's, or one of a run's (or fuzz run's) cells.
struct PastCrash {
  std::string source;       // "known issue LMDB-3", "run 20261202T101010Z", "fuzz run 20261202T..."
  std::string id;           // the issue id, or the cell id
  std::string where;        // the known-issues file or the run directory
  std::string signature;    // "" for a known issue that gives only state globs
  std::string crash_state;  // for a known issue, one of its state globs (each line a glob)
  bool state_is_glob = false;
};
// One PastCrash per signature and per state glob of each issue.
std::vector<PastCrash> past_crashes(const KnownIssues& known, const std::string& where);
// One PastCrash per distinct signature among the failed attempts of a run's
// results.json (`path`: the file, or a run or fuzz-run directory holding it).
Checked<std::vector<PastCrash>> past_crashes_of_run(const std::string& path);

struct SimilarCrash {
  PastCrash past;
  bool same_signature = false;
  bool same_type = false;     // the crash state's first line ("signal SIGBUS") agrees
  int common_frames = 0;      // longest common subsequence of the crash-state frames
  int frames = 0;             // the longer of the two frame lists
  std::string how() const;    // "same signature", "2 of 3 frames, same type", ...
};
// The past crashes like `outcome`'s, best first: equal signatures, then frame
// similarity as ClusterFuzz measures it (the longest common subsequence of
// the crash-state frames) where at least two thirds of the frames agree.
std::vector<SimilarCrash> similar_crashes(const Outcome& outcome, std::span<const PastCrash> past);

// A data directory's triage: its engine, its files, and each read op's outcome.
struct StoreReport {
  EngineLayout engine;                  // the driver that read it, and its layout
  std::string recognised;               // how the engine was known: "--target", or the files it fits
  StoreInspection inspection;
  std::vector<StoreRead> reads;
  std::vector<std::vector<SimilarCrash>> similar;  // per read, for those that crashed
};

// True for the outcomes a triage is about: a crash, not a clean error or an ok.
bool is_crash(const Outcome& outcome);

struct TriageReport {
  std::string input;            // the path as given
  TriageInput kind = TriageInput::log;
  std::string format;           // the log format, "elf-core", or the store's engine
  Outcome outcome;              // for a store: the first read that crashed (else the first that failed, else ok)
  std::vector<SimilarCrash> similar;
  std::optional<StoreReport> store;
};

std::string triage_text(const TriageReport& report);
std::string triage_markdown(const TriageReport& report);  // for pasting into a ticket
// crashgate.result/1 plus "triage": {input, kind, format, similar[]}.
nlohmann::json triage_json(const TriageReport& report);

}  // namespace crashgate
