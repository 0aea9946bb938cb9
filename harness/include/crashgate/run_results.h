// results.json: what one `crashgate run` did, cell by cell. Documented field
// by field in reports/results-schema.md; `schema` names the version. Each
// cell carries everything `crashgate show` and `crashgate repro` need, so
// they work from the file alone, whatever happened to the scenario since.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/change_scope.h"
#include "crashgate/checked.h"
#include "crashgate/outcome.h"
#include "crashgate/scenario.h"
#include "crashgate/verdict.h"

namespace crashgate {

inline constexpr const char* kResultsSchema = "crashgate.results/1";

// One run of a cell: the first, or a rerun of a failure.
struct Attempt {
  Verdict verdict = Verdict::fail;   // pass, fail, harness-error or not-run
  std::vector<std::string> unmet;    // judge()'s reasons, when it did not pass
  Outcome outcome;
  std::string work_dir;
};

struct CellResult {
  Cell cell;                         // id, scenario, target, build, params, seed, limits, steps, expect, regression
  std::string scenario_file;
  std::string summary;
  std::string origin;
  std::string driver;                // the driver binary it ran (or would have)
  Verdict verdict = Verdict::not_run;
  std::vector<Attempt> attempts;     // the first run, then each rerun; empty only when the cell never ran
  std::string repro;                 // `crashgate repro CELL --run RUN_DIR`
};

// One of the runs `crashgate merge` joined into this one.
struct MergedRun {
  std::string run_id;
  std::string run_dir;
  std::string shard;                 // "2/4", or "" when that run was not sharded
  std::string host;
  std::int64_t duration_ms = 0;
  int cells = 0;
  bool operator==(const MergedRun&) const = default;
};

struct RunResults {
  std::string run_id;                // "20250611T051130Z", unique within the reports directory
  std::string run_dir;
  std::string started_at;            // ISO 8601, UTC
  std::int64_t duration_ms = 0;
  std::uint64_t seed = 0;
  std::string crashgate_version;
  std::string host;                  // "name (Linux 6.1.0 x86_64)"
  std::vector<std::string> command_line;
  std::string build_root;
  unsigned jobs = 0;
  int rerun_failures = 0;
  bool interrupted = false;
  int exit_code = 0;
  std::string shard;                 // "2/4" when this run selected one shard (--shard); "" otherwise
  std::string regression;            // `run --regression`: switched on in every cell whose build has them; "" none
  std::vector<MergedRun> merged_from;  // for `crashgate merge`'s output: the runs it joined, in order
  std::optional<ChangeScope> change;   // `run --changed BASE`: the selection, and every cell it skipped
  std::vector<CellResult> cells;

  std::map<Verdict, int> counts() const;  // every verdict, zeros included
};

nlohmann::json to_json(const RunResults& results);
// Reads a document written by to_json; on failure returns nothing and says where in `error`.
Checked<RunResults> run_results_from_json(const nlohmann::json& json);

// Limits as results.json writes them: the limits table's scenario keys, sizes
// and counts as numbers, durations in milliseconds under "<key>_ms".
nlohmann::json limits_json(const Limits& limits);
Checked<Limits> limits_from_json(const nlohmann::json& json);

}  // namespace crashgate
