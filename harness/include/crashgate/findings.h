// Findings: what crashgate found in each engine, across scenario runs and fuzz
// runs: each distinct crash (one signature) once, with the engine and version
// it was found in, how it shows, where it faulted, the smallest cell (or the
// minimized fuzz input) that reproduces it and the command that does, which
// fault classes found it, and the known issue it is filed as.
// `crashgate findings` writes them as reports/findings/<engine>.md and .json.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/outcome.h"
#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kFindingsSchema = "crashgate.findings/1";

struct Finding {
  std::string signature;
  std::string kind;                    // outcome kind: signal, asan, tsan, timeout, error, ...
  std::string detail;                  // the reproducing cell's one-line detail
  std::string crash_state;
  std::optional<Attribution> attribution;
  std::vector<Frame> frames;           // the crashing thread's top frames, as the crash state picks them
  std::vector<std::string> cells;      // every cell (or fuzz crash) with this signature, in input order
  std::vector<std::string> builds;     // the builds it showed in
  std::vector<std::string> fault_classes;  // scenario folders ("corrupt-files") or "fuzz:<target>"
  std::string smallest_cell;           // the cell with the fewest steps, then the shortest run
  std::size_t smallest_steps = 0;      // its steps
  std::int64_t smallest_ms = 0;        // its run time: how long finding it again takes
  std::string repro;                   // a command that reproduces it from a clean checkout (after ci/build)
  std::string input;                   // a fuzz finding's minimized input (path), when there is one
  std::optional<KnownIssueMatch> known_issue;
  std::string upstream;                // the known issue's `upstream`: reported there? fixed in a newer version?
};

struct EngineFindings {
  std::string engine;                  // "lmdb"
  std::vector<std::string> versions;   // the engine versions the runs said they ran
  int cells = 0;                       // cells (and fuzz crashes) of this engine read
  int failed = 0;                      // of which failed (with or without a signature)
  std::vector<Finding> findings;       // by first appearance
};

struct FindingsInput {
  RunResults results;
  std::string source;                  // the run directory it came from, as given
};

// The engine a cell ran: the driver's hello, else the target; a fuzz cell
// ("fuzz:<target>") belongs to the engine its target's name starts with
// (lmdb_open -> lmdb).
std::string engine_of(const CellResult& cell);

// Groups every failed cell with a signature by engine, then signature.
// `source_root` makes scenario paths relative for the repro commands.
std::map<std::string, EngineFindings> collect_findings(const std::vector<FindingsInput>& runs,
                                                       const std::string& source_root);

nlohmann::json to_json(const EngineFindings& f);
std::string findings_markdown(const EngineFindings& f);

}  // namespace crashgate
