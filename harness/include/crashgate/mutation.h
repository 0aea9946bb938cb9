// A mutation run: which mutants `crashgate mutate` tried, what the gate made of
// each, and the score (killed of killed + survived). Pure: the command
// (cli/mutate_command.cc) applies, builds and gates; this file samples,
// scores and writes mutation.json and report.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/mutant.h"
#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kMutationSchema = "crashgate.mutation/1";

// X(enumerator, name, counted in the score, meaning)
#define CRASHGATE_MUTANT_STATUSES(X)                                                                            \
  X(killed, "killed", true, "the gate blocked: a selected cell failed in a way the baseline does not know")    \
  X(survived, "survived", true, "the gate passed with the mutant in place")                                    \
  X(equivalent, "equivalent", false,                                                                           \
    "every driver binary came out byte for byte as without it: the compiler shows it is the same program")     \
  X(no_build, "no-build", false, "the mutant does not compile")                                                \
  X(gone, "gone", false, "asked for by id, but the source at this commit has no such mutant")                  \
  X(error, "error", false, "crashgate could not run or gate the selected cells (the detail says why)")         \
  X(stopped, "stopped", false,                                                                                  \
    "its cells overran --mutant-time, and those that finished did not block (a hang is killed when they do)")  \
  X(not_run, "not-run", false, "interrupted before its turn")

enum class MutantStatus {
#define CRASHGATE_STATUS_ENUM(id, name, counted, meaning) id,
  CRASHGATE_MUTANT_STATUSES(CRASHGATE_STATUS_ENUM)
#undef CRASHGATE_STATUS_ENUM
};

std::string_view to_string(MutantStatus s);
std::optional<MutantStatus> parse_mutant_status(std::string_view name);
bool counted_in_score(MutantStatus s);

struct MutantResult {
  Mutant mutant;
  MutantStatus status = MutantStatus::not_run;
  std::size_t selected = 0;              // cells the gate ran for it
  std::size_t total = 0;                 // cells of the catalog
  std::vector<std::string> killed_by;    // "<cell id>: <why>", the first few new failures
  std::string detail;                    // no-build: the compiler's first errors; error: what went wrong
  double seconds = 0;                    // build, run and gate
};

struct MutationRun {
  std::string commit;                    // the commit mutated
  std::uint64_t seed = 0;
  std::vector<std::string> builds;       // the presets built and gated
  std::string started_at;                // ISO 8601, UTC
  double seconds = 0;
  std::size_t found = 0;                 // mutants in the files, before sampling
  std::vector<std::string> files;        // the files mutated
  bool interrupted = false;
  std::vector<MutantResult> results;     // in the order tried
};

struct MutationScore {
  std::map<MutantStatus, std::size_t> count;
  std::size_t killed() const { return at(MutantStatus::killed); }
  std::size_t survived() const { return at(MutantStatus::survived); }
  std::size_t at(MutantStatus s) const { auto it = count.find(s); return it == count.end() ? 0 : it->second; }
  // killed / (killed + survived), or nullopt when neither
  std::optional<double> score() const;
  // "12 of 30 killed (40.0%); 3 equivalent, 1 no-build"
  std::string headline() const;
};

MutationScore score_of(const std::vector<MutantResult>& results);

// How a mutant's gate runs within --mutant-time: the gate's reruns of new
// failures get what is left of the budget after the cells ran. With less than
// `kGateFloor` left (a run that overran, or nearly) the gate judges without
// reruns; so does the fallback when the gate itself overruns what it was given.
struct GatePlan {
  bool reruns = true;               // false: crashgate gate --rerun-failures 0
  std::chrono::milliseconds limit;  // the most the gate may take
};
inline constexpr std::chrono::milliseconds kGateFloor{std::chrono::seconds(30)};
GatePlan plan_gate(std::chrono::milliseconds budget, std::chrono::milliseconds spent);

// A run stopped at --mutant-time: the cells the stop cut short (never started,
// or interrupted while they ran) say nothing of the mutant, and the gate would
// take each for a new failure; they are removed, and how many is returned.
std::size_t drop_unfinished_cells(RunResults& results);

// `count` mutants, the same for the same seed and mutants: each rule's
// mutants shuffled by the seed, then taken a rule at a time in turn, so every
// rule is represented however many constants a file holds. In source order.
std::vector<Mutant> sample_mutants(const std::vector<Mutant>& all, std::size_t count, std::uint64_t seed,
                                   const std::set<MutationRule>& rules = {});

// The ids listed in a crashgate.mutants/1 or crashgate.mutation/1 document:
// to try the same mutants again (before and after a change to the gate).
Checked<std::vector<std::string>> mutant_ids_in(const std::string& text, const std::string& where);

nlohmann::json mutation_json(const MutationRun& run);
Checked<MutationRun> parse_mutation_json(const std::string& text, const std::string& where);

// report.md: the score, a row per rule, each survivor with its diff, then the
// rest. `diffs`: mutant id -> its diff (mutant_diff), for the survivors.
std::string mutation_markdown(const MutationRun& run, const std::map<std::string, std::string>& diffs);

}  // namespace crashgate
