// Which cells a change can affect. A full run records each cell's footprint
// (the functions of the repository's source files its driver executed, from
// the coverage build's per-cell profiles); a PR then runs the cells whose
// footprint meets the changed lines, every cell of a changed scenario file or driver, every
// cell when the harness or a build file changed, and a seeded sample of the
// rest, so that no cell goes unrun for ever.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/cell_selection.h"
#include "crashgate/checked.h"

namespace crashgate {

inline constexpr std::string_view kFootprintsFormat = "crashgate.footprints/2";
inline constexpr std::string_view kDefaultFootprints = "reports/footprints.json";
// After the commit in `recorded_at` when the engine code recorded differed from it.
inline constexpr std::string_view kFootprintsDirty = "+changes";

// A cell's footprint does not depend on its build (the same steps run the same
// code), so one coverage run serves every build: the key is the cell id with
// its build replaced by `*` ("name/target/*[cut=0]").
std::string footprint_key(const Cell& cell);

// A function of a repository file as the coverage build maps it: its lines at
// the commit the footprints were recorded at (first and last, 1-based).
struct FootprintFunction {
  std::uint32_t file = 0;  // index into Footprints::files
  std::uint32_t first = 0, last = 0;
  std::string name;        // demangled, without its parameters ("vstore::Store::get")
  friend bool operator==(const FootprintFunction&, const FootprintFunction&) = default;
};

struct Footprints {
  std::string recorded_at;                     // the commit the footprints were recorded at
  std::vector<std::string> files;              // repository-relative paths, sorted
  std::vector<FootprintFunction> functions;    // every function the drivers map in those files, by (file, first, last)
  std::vector<std::vector<std::uint32_t>> sets;  // distinct footprints: indices into functions, the ones executed
  std::map<std::string, std::uint32_t> cells;  // footprint_key -> index into sets

  // The files cell `key` executed, or nothing when none was recorded (a cell
  // that crashed before writing its profile, or one added since).
  std::optional<std::vector<std::string_view>> files_of(const std::string& key) const;
  // The functions (indices into `functions`) it executed, sorted; null when none was recorded.
  const std::vector<std::uint32_t>* functions_of(const std::string& key) const;
  // The index of `path` in `files`, or nothing.
  std::optional<std::uint32_t> file_index(std::string_view path) const;
};

// Reads and checks a footprints file; the failure names the file and what is wrong in it.
Checked<Footprints> load_footprints(const std::string& path);
CheckedDone save_footprints(const Footprints& footprints, const std::string& path);

// One hunk of `git diff -U0`: old lines [old_start, old_start + old_count)
// became new lines [new_start, new_start + new_count). A count of 0 is an
// insertion (old side) or a deletion (new side) after line *_start.
struct DiffHunk {
  std::uint32_t old_start = 0, old_count = 0, new_start = 0, new_count = 0;
  friend bool operator==(const DiffHunk&, const DiffHunk&) = default;
};
// The hunks of a unified diff's text (its "@@ -a,b +c,d @@" lines), in order.
std::vector<DiffHunk> parse_diff_hunks(std::string_view diff);

// Where line `line` of the new side of `hunks` was on its old side, or nothing
// when the diff changed that line.
std::optional<std::uint32_t> old_line(const std::vector<DiffHunk>& hunks, std::uint32_t line);

// What a changed file can affect, by its path: one row of a table (change_rules.cc).
enum class ChangeReach {
  everything,   // the harness, a build file, CI's setup: every cell
  scenario,     // a scenario file: its cells
  driver,       // targets/ENGINE/driver/: every cell of ENGINE
  engine_code,  // targets/ENGINE/ anything else: the cells whose footprint holds it (every cell of ENGINE when none does)
  nothing,      // docs, tests, reports, CI files the gate does not run: no cell
};

struct ChangeRule {
  std::string_view pattern;  // a glob over the path: `*` within one directory, `**` across directories
  ChangeReach reach;
  std::string_view why;      // said in the selection's reasons
  std::string_view example, near_miss;  // a path it takes and one it must not (tested)
};

// The table, first match wins; a path no row takes reaches everything.
const std::vector<ChangeRule>& change_rules();
struct ChangeClass {
  ChangeReach reach;
  std::string why;
  std::string engine;  // for driver and engine_code: the ENGINE of targets/ENGINE/
};
ChangeClass classify_change(std::string_view path);
bool path_glob_match(std::string_view pattern, std::string_view path);

// The change since BASE in the git repository that holds `dir`: the files
// that differ between `git merge-base BASE HEAD` and the working tree (commits,
// staged and unstaged edits; a rename as its two paths), plus untracked files
// git does not ignore. The failure says which git command failed and what git said.
struct RepositoryChange {
  std::string root;        // the repository's top directory
  std::string head;        // HEAD's commit
  std::string merge_base;  // the commit compared against
  std::vector<std::string> files;  // repository-relative, sorted, each once

  // `path` (relative to the current directory, or absolute; symlinks resolved) as the
  // changed files name it: relative to `root`.
  std::string relative(const std::string& path) const;
  // The seed of this commit's rotating sample: it moves with every HEAD.
  std::uint64_t sample_seed() const;
};
Checked<RepositoryChange> change_since(const std::string& base, const std::string& dir = ".");

// The hunks of `path` between commit `from` and commit `to` ("" for the
// working tree) in the repository at `root`: `git diff -U0`. A file that is
// new, gone or binary gives a hunk covering it whole (or no hunk, when git
// shows none: then callers treat the file as changed throughout).
Checked<std::vector<DiffHunk>> diff_hunks(const std::string& root, const std::string& from, const std::string& to,
                                          const std::string& path);
// The text of `path` at `commit`, or nothing when it was not there.
std::optional<std::string> file_at(const std::string& root, const std::string& commit, const std::string& path);
// Whether `commit` names a commit the repository at `root` has.
bool has_commit(const std::string& root, const std::string& commit);

// The old lines new line `line` stands for: itself carried back when the diff
// left it alone; the old lines its hunk replaced; or, for a line the diff
// added, the two old lines it was added between (0 before the first).
std::pair<std::uint32_t, std::uint32_t> old_span(const std::vector<DiffHunk>& hunks, std::uint32_t line);

// Which recorded functions of one changed engine file a change touches.
// `changes`: the change's hunks (merge base -> working tree; the old side is
// what is looked up); `since_recorded`: the file's hunks from the commit the
// footprints were recorded at to the merge base (empty when it is the same
// commit), through which the old side's lines are carried back to the lines
// the functions were recorded at (old_span: a line changed since stands for
// what it replaced). A changed line in no recorded function (a declaration, a
// new function, an include) makes the change reach outside the functions.
struct CodeTouch {
  std::vector<std::uint32_t> functions;  // indices into Footprints::functions, sorted
  bool outside = false;
  std::string outside_why;  // "line 12 is in no function", "lines added after line 40, in no function"
};
CodeTouch touched_functions(const Footprints& footprints, const std::string& path, const std::vector<DiffHunk>& changes,
                            const std::vector<DiffHunk>& since_recorded);

struct ChangeSelectionOptions {
  std::vector<std::string> changed_files;  // repository-relative
  // Per changed engine file, the functions its change touches. A file not in
  // it is judged by files: every cell whose footprint holds the file.
  std::map<std::string, CodeTouch> touched;
  double sample = 0.05;                    // of the cells nothing selected, this fraction runs anyway
  std::uint64_t sample_seed = 0;           // e.g. a hash of the commit: the sample rotates
};

struct ChangeSelection {
  std::vector<std::size_t> selected;           // indices into the cells, in their order
  std::vector<std::string> reasons;            // one per selected cell ("footprint holds targets/vstore/src/x.cc")
  std::vector<bool> code_reached;              // one per selected cell: changed engine code reached it (not a scenario, driver or sample)
  std::vector<std::size_t> skipped;            // indices not selected
  bool everything = false;                     // a change reached every cell
  std::string everything_why;                  // "harness/src/x.cc: the harness runs every cell"
  std::size_t by_footprint = 0, by_scenario = 0, by_driver = 0, by_engine = 0, unrecorded = 0, sampled = 0;
};

// `cells[i].scenario_file` must be repository-relative, as the changed files are.
ChangeSelection select_for_change(const std::vector<PlannedCell>& cells, const Footprints& footprints,
                                  const ChangeSelectionOptions& options);

// Whether a cell races the engine against itself: a step spawns workload threads, or its scenario
// file is in a `concurrency/` folder (the catalog's race scenarios, such as readers in a second
// process while this one grows the store). A second process that writes and crashes alone (a
// power cut at each write site) is not a race: more seeds would replay the same sites.
bool runs_concurrently(const PlannedCell& cell);

// The extra runs of the concurrency cells (runs_concurrently) that changed engine code reached
// (`code_reached`, one per cell of `selected`): for each, `seeds` - 1 copies
// with ids "ID#seed=K" (K = 2 .. seeds) and seeds of their own, so that a race
// a change opened gets `seeds` chances to show on the PR. In the order given.
std::vector<PlannedCell> more_seeds_of(const std::vector<PlannedCell>& selected, const std::vector<bool>& code_reached,
                                       unsigned seeds);

// The regression matrix on a PR: which switches a change can make escape.
// Every one when a file reaching everything changed, or a driver, or a
// scenario file with cells of a target that has switches (any of them may have
// caught a switch; with `catchers`, only those its scenarios caught, and any
// switch the last full matrix did not try); for engine code, the switches the changed file names
// (`Regression::<id with '-' as '_'>`, the convention of an engine's
// regression table; a deleted file names them all); plus, when `rotate`, one
// more switch drawn from `seed`, so every switch is tried now and then.
struct RegressionRef {
  std::string id;      // "unlocked-grow"
  std::string target;  // the engine whose driver lists it
};
// What the last full matrix says caught each switch, for a scenario edit:
// only the switches a changed file's scenarios caught can escape by it (an
// edit elsewhere can add catches, never take one away).
struct SwitchCatchers {
  std::map<std::string, std::set<std::string>> by_switch;  // switch id -> the scenario names whose cells caught it
  // The scenario names a changed scenario file holds now and held at the merge
  // base (a renamed scenario may have been a catcher); empty when unknown.
  std::function<std::set<std::string>(const std::string&)> names_in;
  std::string source;  // "reports/detection-matrix.json (run 20261202T234604Z)"
};
// The lines (1-based) of `text` naming switch `id` as `Regression::<id with
// '-' as '_'>`, a whole identifier (not a longer one it begins).
std::vector<std::uint32_t> regression_lines(std::string_view text, std::string_view id);

// The recorded functions that hold a switch's code: `hits` are the files and
// working-tree lines naming it, `since` each file's hunks from the commit the
// footprints were recorded at to the working tree (a line changed since stands
// for the lines it replaced: old_span). Nothing when a hit is in no recorded
// function (then any cell may reach it).
std::optional<std::vector<std::uint32_t>> switch_functions(
    const Footprints& footprints, const std::vector<std::pair<std::string, std::uint32_t>>& hits,
    const std::map<std::string, std::vector<DiffHunk>>& since);

// The top-level `name = "..."` of a scenario file's text (one per file; none when it has none).
std::set<std::string> scenario_names_in(std::string_view toml);

struct SwitchSelection {
  std::vector<std::string> ids;  // in the order of the switches given
  std::vector<std::string> why;  // one per id
  bool everything = false;
};
SwitchSelection select_switches_for_change(const std::vector<std::string>& changed_files,
                                           const std::vector<RegressionRef>& switches,
                                           const std::set<std::string>& scenario_files_with_switches,
                                           const std::function<std::optional<std::string>(const std::string&)>& read,
                                           std::uint64_t seed, bool rotate, const SwitchCatchers* catchers = nullptr);

}  // namespace crashgate
