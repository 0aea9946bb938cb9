// What a change-aware run (`crashgate run --changed BASE`) ran and skipped, as
// results.json keeps it under "change": which change, which files, how many
// cells each rule selected, and every cell it skipped, so that the reports and
// the gate can say plainly that this was a selection and not the whole catalog.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"

namespace crashgate {

// A cell the selection left out: enough to name it in JUnit and the reports.
struct SkippedCell {
  std::string id;
  std::string scenario;
  std::string target;
  std::string build;
  std::string scenario_file;
};

struct ChangeScope {
  std::string base;                        // as given: "origin/main"
  std::string merge_base;                  // the commit compared against
  std::string head;                        // HEAD when the run started
  std::vector<std::string> changed_files;  // repository-relative, committed, staged, unstaged and untracked
  std::string footprints;                  // the footprints file read; "" when there was none
  std::string footprints_recorded_at;      // the commit they were recorded at
  // How changed engine code met the footprints: "functions" (the changed lines'
  // functions), "files" (any change to a file a footprint holds; the why says
  // what kept it from functions), "" without footprints.
  std::string footprints_by;
  std::string footprints_by_why;
  double sample = 0;                       // the fraction of otherwise skipped cells run anyway
  std::uint64_t sample_seed = 0;
  bool everything = false;                 // a change reached every cell
  std::string everything_why;
  std::size_t total = 0;                   // cells before the selection
  std::size_t by_footprint = 0, by_scenario = 0, by_driver = 0, by_engine = 0, unrecorded = 0, sampled = 0;
  // Runs added with other seeds: a concurrency cell (one that spawns workloads or a second process)
  // whose footprint runs changed engine code runs `seeds` times in all, each extra run a cell of
  // its own ("ID#seed=K"), so a race the change opened has more than one chance to show.
  std::size_t more_seeds = 0;
  std::map<std::string, std::string> why;  // selected cell id -> why it runs
  std::vector<SkippedCell> skipped;

  std::size_t selected() const { return total - skipped.size(); }
  // "112 of 1,595 cells selected for the change since origin/main (merge base 1a2b3c4d, 3 files)"
  std::string headline() const;
  // "80 by footprint, 20 of changed scenario files, 12 from the rotating 5% sample"
  std::string breakdown() const;
};

nlohmann::json change_scope_json(const ChangeScope& scope);
Checked<ChangeScope> change_scope_from_json(const nlohmann::json& json);

}  // namespace crashgate
