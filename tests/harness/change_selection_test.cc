// Change-aware selection: every row of the change table, and which cells a
// change selects from recorded footprints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "crashgate/change_selection.h"
#include "harness/support/crashers.h"

namespace crashgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ChangeRuleRow : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ChangeRuleRow, TakesItsExampleFirstAndNotItsNearMiss) {
  const ChangeRule& rule = change_rules()[GetParam()];
  EXPECT_TRUE(path_glob_match(rule.pattern, rule.example)) << rule.pattern << " vs " << rule.example;
  EXPECT_FALSE(path_glob_match(rule.pattern, rule.near_miss)) << rule.pattern << " vs " << rule.near_miss;
  // No earlier row takes the example: the row is reachable.
  ChangeClass c = classify_change(rule.example);
  EXPECT_EQ(c.reach, rule.reach) << rule.example;
  EXPECT_EQ(c.why, rule.why) << rule.example;
}

INSTANTIATE_TEST_SUITE_P(EveryRow, ChangeRuleRow, ::testing::Range<std::size_t>(0, change_rules().size()));

TEST(PathGlob, StarStaysInOneDirectoryAndDoubleStarCrossesThem) {
  EXPECT_TRUE(path_glob_match("ci/*", "ci/gate"));
  EXPECT_FALSE(path_glob_match("ci/*", "ci/github/pr.yml"));
  EXPECT_TRUE(path_glob_match("**/CMakeLists.txt", "CMakeLists.txt"));
  EXPECT_TRUE(path_glob_match("**/CMakeLists.txt", "targets/lmdb/driver/CMakeLists.txt"));
  EXPECT_FALSE(path_glob_match("**/CMakeLists.txt", "targets/lmdb/driver/NotCMakeLists.txt"));
  EXPECT_TRUE(path_glob_match("scenarios/**/*.toml", "scenarios/x.toml"));
  EXPECT_TRUE(path_glob_match("scenarios/**/*.toml", "scenarios/a/b/x.toml"));
  EXPECT_FALSE(path_glob_match("scenarios/**/*.toml", "scenarios/a/x.tom"));
}

TEST(ClassifyChange, APathNoRowKnowsReachesEverything) {
  ChangeClass c = classify_change("tools/new-thing.py");
  EXPECT_EQ(c.reach, ChangeReach::everything);
  EXPECT_THAT(c.why, HasSubstr("cannot tell"));
  EXPECT_EQ(classify_change("targets/lmdb/driver/env.cc").engine, "lmdb");
}

TEST(FootprintKey, IsTheCellIdWithItsBuildStarred) {
  Cell cell;
  cell.id = "truncated-vectors-bin/vstore/asan[cut=header]";
  EXPECT_EQ(footprint_key(cell), "truncated-vectors-bin/vstore/*[cut=header]");
  cell.id = "small-address-space/vstore/debug";
  EXPECT_EQ(footprint_key(cell), "small-address-space/vstore/*");
}

PlannedCell planned(std::string scenario, std::string target, std::string build, std::string params,
                    std::string file) {
  PlannedCell p;
  p.cell.scenario = scenario;
  p.cell.target = target;
  p.cell.build = build;
  p.cell.id = scenario + "/" + target + "/" + build + params;
  p.scenario_file = std::move(file);
  return p;
}

// Four vstore cells (two scenarios, two builds each), two LMDB cells, and the
// functions each executed: the open path, the search path, the LMDB driver.
struct World {
  std::vector<PlannedCell> cells = {
      planned("open", "vstore", "release", "[cut=0]", "scenarios/open.toml"),
      planned("open", "vstore", "asan", "[cut=0]", "scenarios/open.toml"),
      planned("search", "vstore", "release", "", "scenarios/search.toml"),
      planned("search", "vstore", "asan", "", "scenarios/search.toml"),
      planned("env", "lmdb", "release", "", "scenarios/env.toml"),
      planned("fresh", "lmdb", "release", "", "scenarios/fresh.toml"),
  };
  Footprints footprints;
  World() {
    footprints.recorded_at = "abc123";
    footprints.files = {"targets/lmdb/driver/env.cc", "targets/vstore/driver/main.cc",
                        "targets/vstore/src/index/search.cc", "targets/vstore/src/storage/open.cc",
                        "targets/vstore/src/storage/page.h"};
    footprints.functions = {
        {3, 10, 30, "vstore::open_store()"},    // 0: open only
        {3, 32, 50, "vstore::check_header()"},  // 1: open and search
        {2, 5, 40, "vstore::search()"},         // 2: search only
        {1, 1, 20, "main()"},                   // 3: every vstore cell
        {0, 1, 10, "env()"},                    // 4: env
        {3, 52, 60, "vstore::repair()"},        // 5: nobody
        {4, 20, 24, "vstore::Page::bytes()"},   // 6: search only
    };
    footprints.sets = {{0, 1, 3}, {1, 2, 3, 6}, {4}};
    footprints.cells = {{"open/vstore/*[cut=0]", 0}, {"search/vstore/*", 1}, {"env/lmdb/*", 2}};
    // "fresh/lmdb/*" has no footprint: added since they were recorded.
  }
  ChangeSelection select(std::vector<std::string> changed, double sample = 0,
                         std::map<std::string, CodeTouch> touched = {}) const {
    ChangeSelectionOptions options;
    options.changed_files = std::move(changed);
    options.sample = sample;
    options.touched = std::move(touched);
    return select_for_change(cells, footprints, options);
  }
  // The touch of one changed line of `path`, no commit between recording and base.
  CodeTouch touch(const std::string& path, std::uint32_t line) const {
    return touched_functions(footprints, path, {{line, 1, line, 1}}, {});
  }
};

TEST(ChangeSelection, AnEngineFileRunsEveryBuildOfTheCellsWhoseFootprintHoldsIt) {
  World w;
  ChangeSelection s = w.select({"targets/vstore/src/index/search.cc"});
  EXPECT_THAT(s.selected, ElementsAre(2, 3));
  EXPECT_THAT(s.skipped, ElementsAre(0, 1, 4, 5));
  EXPECT_EQ(s.by_footprint, 2u);
  EXPECT_THAT(s.reasons[0], HasSubstr("its footprint holds targets/vstore/src/index/search.cc"));
  EXPECT_FALSE(s.everything);
  EXPECT_THAT(w.select({"targets/vstore/src/storage/open.cc"}).selected, ElementsAre(0, 1, 2, 3));
}

TEST(ChangeSelection, ConcurrencyCellsEngineCodeReachedRunWithMoreSeedsAndNoOtherCellDoes) {
  World w;
  Step workload;
  workload.op = "spawn-workload";
  workload.args = {{"workload", "mixed"}};
  Step second;
  second.op = "second-process";
  for (std::size_t i : {2u, 3u}) w.cells[i].cell.steps = {workload};  // the search cells race threads
  w.cells[4].cell.steps = {second};                                   // env: readers in a second process,
  w.cells[4].scenario_file = "scenarios/concurrency/env.toml";        // a race scenario
  w.cells[5].cell.steps = {second};                                   // fresh: a second process that crashes alone
  w.cells[0].cell.steps = {Step{}};                                   // open: one step, no concurrency
  w.cells[2].cell.seed = 77;
  EXPECT_TRUE(runs_concurrently(w.cells[2]));
  EXPECT_TRUE(runs_concurrently(w.cells[4]));
  EXPECT_FALSE(runs_concurrently(w.cells[5]));
  EXPECT_FALSE(runs_concurrently(w.cells[0]));

  // check_header() changed: open and search cells, by footprint; only the search ones race.
  std::string open = "targets/vstore/src/storage/open.cc";
  ChangeSelection s = w.select({open}, 0, {{open, w.touch(open, 40)}});
  ASSERT_THAT(s.selected, ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(s.code_reached, ElementsAre(true, true, true, true));
  std::vector<PlannedCell> picked;
  for (std::size_t i : s.selected) picked.push_back(w.cells[i]);
  std::vector<PlannedCell> more = more_seeds_of(picked, s.code_reached, 3);
  ASSERT_EQ(more.size(), 4u);
  EXPECT_EQ(more[0].cell.id, "search/vstore/release#seed=2");
  EXPECT_EQ(more[1].cell.id, "search/vstore/release#seed=3");
  EXPECT_EQ(more[2].cell.id, "search/vstore/asan#seed=2");
  EXPECT_NE(more[0].cell.seed, more[1].cell.seed);
  EXPECT_NE(more[0].cell.seed, 77u);
  EXPECT_EQ(more[0].cell.steps.size(), 1u);
  EXPECT_TRUE(more_seeds_of(picked, s.code_reached, 1).empty()) << "one run in all: no copy";

  // A scenario edit or the sample selects the cell, but no engine code reached it: one run.
  ChangeSelection by_scenario = w.select({"scenarios/search.toml"});
  EXPECT_THAT(by_scenario.code_reached, ElementsAre(false, false));
  std::vector<PlannedCell> searches = {w.cells[2], w.cells[3]};
  EXPECT_TRUE(more_seeds_of(searches, by_scenario.code_reached, 4).empty());
  ChangeSelection harness = w.select({"harness/src/x.cc"});
  EXPECT_TRUE(std::none_of(harness.code_reached.begin(), harness.code_reached.end(), [](bool b) { return b; }));
  // LMDB engine code no footprint holds: every LMDB cell, and env's second process gets its seeds.
  ChangeSelection lmdb = w.select({"targets/lmdb/src/mdb.c"});
  ASSERT_THAT(lmdb.selected, ElementsAre(4, 5));
  EXPECT_THAT(lmdb.code_reached, ElementsAre(true, true));
  EXPECT_EQ(more_seeds_of({w.cells[4], w.cells[5]}, lmdb.code_reached, 2).size(), 1u);
}

TEST(ChangeSelection, AChangedLineRunsOnlyTheCellsThatExecutedItsFunction) {
  World w;
  std::string open = "targets/vstore/src/storage/open.cc";
  ChangeSelection s = w.select({open}, 0, {{open, w.touch(open, 15)}});
  EXPECT_THAT(s.selected, ElementsAre(0, 1)) << "open_store() ran in the open cells only";
  EXPECT_EQ(s.by_footprint, 2u);
  EXPECT_THAT(s.reasons[0], HasSubstr("its footprint runs vstore::open_store() (" + open + ":10-30), which changed"));
  EXPECT_THAT(w.select({open}, 0, {{open, w.touch(open, 40)}}).selected, ElementsAre(0, 1, 2, 3))
      << "check_header() ran in both";
  EXPECT_THAT(w.select({open}, 0, {{open, w.touch(open, 55)}}).selected, ::testing::IsEmpty())
      << "repair() ran in no cell";
}

TEST(ChangeSelection, ALineOutsideEveryFunctionRunsTheFilesCellsAndInAHeaderEveryCellOfTheEngine) {
  World w;
  std::string open = "targets/vstore/src/storage/open.cc", page = "targets/vstore/src/storage/page.h";
  CodeTouch between = w.touch(open, 31);
  ASSERT_TRUE(between.outside);
  ChangeSelection s = w.select({open}, 0, {{open, between}});
  EXPECT_THAT(s.selected, ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(s.reasons[0], HasSubstr("its footprint holds " + open + " (line 31 is in no function)"));
  // A declaration in a header reaches every file that includes it, executed or not.
  ChangeSelection h = w.select({page}, 0, {{page, w.touch(page, 3)}});
  EXPECT_THAT(h.selected, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(h.by_engine, 4u);
  EXPECT_THAT(h.reasons[0], HasSubstr("every file that includes a header compiles it"));
  // Inside the header's inline function: the cells that ran it.
  EXPECT_THAT(w.select({page}, 0, {{page, w.touch(page, 22)}}).selected, ElementsAre(2, 3));
}

TEST(ChangeSelection, AScenarioEditRunsThatScenariosCellsOnly) {
  World w;
  ChangeSelection s = w.select({"scenarios/open.toml"});
  EXPECT_THAT(s.selected, ElementsAre(0, 1));
  EXPECT_EQ(s.by_scenario, 2u);
}

TEST(ChangeSelection, ADriverEditRunsEveryCellOfItsEngineAndNoOther) {
  World w;
  ChangeSelection s = w.select({"targets/lmdb/driver/fsck.cc"});
  EXPECT_THAT(s.selected, ElementsAre(4, 5));
  EXPECT_EQ(s.by_driver, 2u);
}

TEST(ChangeSelection, EngineCodeNoFootprintHoldsRunsEveryCellOfThatEngine) {
  World w;
  ChangeSelection s = w.select({"targets/vstore/src/storage/layout.h"});
  EXPECT_THAT(s.selected, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(s.by_engine, 4u);
  EXPECT_THAT(s.reasons[0], HasSubstr("which no recorded footprint holds: every vstore cell"));
}

TEST(ChangeSelection, ACellWithNoRecordedFootprintRunsWhenItsEnginesCodeChanges) {
  World w;
  w.footprints.files.push_back("targets/lmdb/src/shim.cc");
  w.footprints.functions.push_back({5, 1, 9, "shim()"});
  w.footprints.sets[2].push_back(7);
  ChangeSelection s = w.select({"targets/lmdb/src/shim.cc"});
  EXPECT_THAT(s.selected, ElementsAre(4, 5));
  EXPECT_EQ(s.unrecorded, 1u);
  EXPECT_EQ(s.by_footprint, 1u);
}

TEST(ChangeSelection, TheHarnessABuildFileOrAnUnknownPathRunsEveryCell) {
  World w;
  for (const char* path : {"harness/src/run/run_matrix.cc", "targets/vstore/CMakeLists.txt", "ci/packages.txt",
                           "tools/new-thing.py"}) {
    ChangeSelection s = w.select({"docs/x.md", path});
    EXPECT_TRUE(s.everything) << path;
    EXPECT_EQ(s.selected.size(), w.cells.size()) << path;
    EXPECT_THAT(s.everything_why, HasSubstr(path));
  }
}

TEST(ChangeSelection, DocsTestsAndReportsRunNoCellWithoutTheSample) {
  World w;
  ChangeSelection s = w.select({"README.md", "tests/harness/run_test.cc", "reports/known-issues.toml"});
  EXPECT_TRUE(s.selected.empty());
  EXPECT_EQ(s.skipped.size(), w.cells.size());
}

TEST(ChangeSelection, TheSampleTakesAboutItsFractionAndRotatesWithItsSeed) {
  std::vector<PlannedCell> cells;
  for (int i = 0; i < 2000; ++i) cells.push_back(planned("s", "vstore", "release", "[i=" + std::to_string(i) + "]", "s.toml"));
  Footprints none;
  ChangeSelectionOptions options;
  options.changed_files = {"docs/a.md"};
  options.sample = 0.05;
  options.sample_seed = 1;
  ChangeSelection a = select_for_change(cells, none, options);
  options.sample_seed = 2;
  ChangeSelection b = select_for_change(cells, none, options);
  EXPECT_GT(a.sampled, 60u);
  EXPECT_LT(a.sampled, 140u);
  EXPECT_NE(a.selected, b.selected) << "a new seed draws another sample";
  options.sample_seed = 1;
  EXPECT_EQ(select_for_change(cells, none, options).selected, a.selected) << "the same seed, the same sample";
}

TEST(Footprints, SaveThenLoadGivesTheSameFootprints) {
  World w;
  std::string path = testing::scratch_dir("footprints") + "/footprints.json";
  ASSERT_TRUE(save_footprints(w.footprints, path));
  auto loaded = load_footprints(path);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->files, w.footprints.files);
  EXPECT_EQ(loaded->functions, w.footprints.functions);
  EXPECT_EQ(loaded->sets, w.footprints.sets);
  EXPECT_EQ(loaded->cells, w.footprints.cells);
  EXPECT_EQ(loaded->recorded_at, "abc123");
}

TEST(Footprints, LoadRefusesAnIndexPastItsListNamingTheEntry) {
  std::string path = testing::scratch_dir("footprints") + "/bad.json";
  auto load = [&](const std::string& functions, const std::string& sets) {
    std::ofstream(path) << R"j({"format": "crashgate.footprints/2", "recorded_at": "x", "files": ["a.cc"], "functions": )j"
                        << functions << R"j(, "footprints": )j" << sets << R"j(, "cells": {"s/t/*": 0}})j";
    return load_footprints(path);
  };
  ASSERT_TRUE(load(R"j([[0, 1, 9, "f()"]])j", "[[0]]"));
  auto set = load(R"j([[0, 1, 9, "f()"]])j", "[[0, 3]]");
  ASSERT_FALSE(set);
  EXPECT_THAT(set.error(), HasSubstr("footprints[0] names function 3 of 1"));
  EXPECT_THAT(set.error(), HasSubstr(path));
  EXPECT_THAT(load(R"j([[0, 1, 9, "f()"], [2, 1, 9, "g()"]])j", "[[0]]").error(), HasSubstr("functions[1] names file 2 of 1"));
  EXPECT_THAT(load(R"j([[0, 9, 1, "f()"]])j", "[[0]]").error(), HasSubstr("functions[0] has lines 9-1"));
  EXPECT_THAT(load(R"j([[0, 1, 9]])j", "[[0]]").error(), HasSubstr("functions[0] is not [file, first line, last line, name]"));
}

TEST(Footprints, AnOlderFormatOrAMissingFileSaysToRecordThemAgain) {
  std::string path = testing::scratch_dir("footprints") + "/old.json";
  std::ofstream(path) << R"({"format": "crashgate.footprints/1", "recorded_at": "x", "files": ["a.cc"],
                            "footprints": [[0]], "cells": {"s/t/*": 0}})";
  auto old = load_footprints(path);
  ASSERT_FALSE(old);
  EXPECT_THAT(old.error(), HasSubstr("format is \"crashgate.footprints/1\", not crashgate.footprints/2"));
  EXPECT_THAT(old.error(), HasSubstr("record it again with `crashgate footprints`"));
  EXPECT_THAT(load_footprints(path + ".missing").error(), HasSubstr("cannot be read"));
}

TEST(DiffHunks, ParsesEachHunkHeaderWithAMissingCountAsOne) {
  std::string diff =
      "diff --git a/x.cc b/x.cc\nindex 1..2 100644\n--- a/x.cc\n+++ b/x.cc\n"
      "@@ -3 +3 @@ int f() {\n-  return 1;\n+  return 2;\n"
      "@@ -10,0 +11,2 @@\n+a\n+b\n"
      "@@ -20,4 +21,0 @@ int g()\n-x\n-y\n-z\n-w\n"
      "+@@ -1,1 +1,1 @@ is an added line, not a header\n";
  EXPECT_THAT(parse_diff_hunks(diff), ElementsAre(DiffHunk{3, 1, 3, 1}, DiffHunk{10, 0, 11, 2}, DiffHunk{20, 4, 21, 0}));
  EXPECT_THAT(parse_diff_hunks("Binary files a/x and b/x differ\n"), ::testing::IsEmpty());
}

TEST(DiffHunks, OldLineCarriesANewLineBackPastInsertionsAndDeletionsAndRefusesAChangedOne) {
  // Two lines added after old line 10, old lines 20-23 deleted.
  std::vector<DiffHunk> hunks = {{10, 0, 11, 2}, {20, 4, 21, 0}};
  EXPECT_EQ(old_line(hunks, 5), 5u);
  EXPECT_EQ(old_line(hunks, 10), 10u);
  EXPECT_EQ(old_line(hunks, 11), std::nullopt) << "an added line was in no old line";
  EXPECT_EQ(old_line(hunks, 12), std::nullopt);
  EXPECT_EQ(old_line(hunks, 13), 11u);
  EXPECT_EQ(old_line(hunks, 21), 19u);
  EXPECT_EQ(old_line(hunks, 22), 24u) << "past the deletion";
  EXPECT_EQ(old_line({{3, 1, 3, 1}}, 3), std::nullopt) << "a replaced line";
  EXPECT_EQ(old_line({}, 7), 7u);
}

TEST(DiffHunks, OldSpanIsTheLineCarriedBackOrWhatItsHunkReplacedOrTheLinesAroundAnAddition) {
  std::vector<DiffHunk> hunks = {{10, 0, 11, 2}, {20, 4, 21, 0}, {30, 2, 28, 3}};
  EXPECT_EQ(old_span(hunks, 5), std::make_pair(5u, 5u));
  EXPECT_EQ(old_span(hunks, 12), std::make_pair(10u, 11u)) << "added between old lines 10 and 11";
  EXPECT_EQ(old_span(hunks, 13), std::make_pair(11u, 11u));
  EXPECT_EQ(old_span(hunks, 29), std::make_pair(30u, 31u)) << "one of three lines replacing old 30-31";
  EXPECT_EQ(old_span(hunks, 31), std::make_pair(32u, 32u));
  EXPECT_EQ(old_span({{0, 0, 1, 2}}, 1), std::make_pair(0u, 1u)) << "added at the top";
}

TEST(TouchedFunctions, AChangedLineTouchesTheFunctionsHoldingItCarriedBackToTheRecordedLines) {
  World w;
  std::string open = "targets/vstore/src/storage/open.cc";
  CodeTouch t = touched_functions(w.footprints, open, {{15, 1, 15, 1}}, {});
  EXPECT_FALSE(t.outside);
  EXPECT_THAT(t.functions, ElementsAre(0));
  // Five lines were added at the top since the recording: base line 20 was recorded as line 15.
  std::vector<DiffHunk> since = {{0, 0, 1, 5}};
  EXPECT_THAT(touched_functions(w.footprints, open, {{20, 1, 20, 1}}, since).functions, ElementsAre(0));
  EXPECT_THAT(touched_functions(w.footprints, open, {{38, 1, 38, 1}}, since).functions, ElementsAre(1));
  // A line the base added since the recording, at the top: in no recorded function.
  CodeTouch added = touched_functions(w.footprints, open, {{3, 1, 3, 1}}, since);
  EXPECT_TRUE(added.outside);
  EXPECT_THAT(added.outside_why, HasSubstr("line 3, changed since the footprints were recorded, in no recorded function"));
  // A line the base rewrote inside open_store() since: still open_store().
  CodeTouch rewritten = touched_functions(w.footprints, open, {{20, 1, 20, 1}}, {{20, 1, 20, 2}});
  EXPECT_FALSE(rewritten.outside);
  EXPECT_THAT(rewritten.functions, ElementsAre(0));
}

TEST(TouchedFunctions, InsertionsInsideAFunctionTouchItAndBetweenFunctionsReachOutside) {
  World w;
  std::string open = "targets/vstore/src/storage/open.cc";
  CodeTouch inside = touched_functions(w.footprints, open, {{20, 0, 21, 3}}, {});
  EXPECT_FALSE(inside.outside);
  EXPECT_THAT(inside.functions, ElementsAre(0));
  CodeTouch after = touched_functions(w.footprints, open, {{30, 0, 31, 3}}, {});  // after open_store()'s last line
  EXPECT_TRUE(after.outside);
  EXPECT_THAT(after.outside_why, HasSubstr("added after line 30, in no function"));
  EXPECT_TRUE(touched_functions(w.footprints, open, {{0, 0, 1, 1}}, {}).outside) << "at the top";
  // A hunk spanning two functions and the line between them.
  CodeTouch span = touched_functions(w.footprints, open, {{29, 4, 29, 1}}, {});
  EXPECT_THAT(span.functions, ElementsAre(0, 1));
  EXPECT_TRUE(span.outside);
  EXPECT_THAT(span.outside_why, HasSubstr("line 31 is in no function"));
  EXPECT_TRUE(touched_functions(w.footprints, open, {}, {}).outside) << "no hunk: the whole file (new, binary)";
}

}  // namespace
}  // namespace crashgate

namespace crashgate {
namespace {

const std::vector<RegressionRef> kSwitches = {
    {"unlocked-grow", "vstore"}, {"stale-size", "vstore"}, {"recursive-filter", "vstore"}, {"lmdb-thing", "lmdb"}};

std::function<std::optional<std::string>(const std::string&)> files(std::map<std::string, std::string> texts) {
  return [texts](const std::string& path) -> std::optional<std::string> {
    auto it = texts.find(path);
    if (it == texts.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SwitchSelection, EngineCodeSelectsTheSwitchesWhoseCodeTheChangedFileHolds) {
  auto chosen = select_switches_for_change(
      {"targets/vstore/src/storage/mapped_file.cc", "targets/vstore/src/index/search.cc"}, kSwitches, {},
      files({{"targets/vstore/src/storage/mapped_file.cc",
              "if (regression_enabled(Regression::unlocked_grow)) {}\nif (regression_enabled(Regression::stale_size)) {}"},
             {"targets/vstore/src/index/search.cc", "no switch here"}}),
      1, false);
  EXPECT_THAT(chosen.ids, ElementsAre("unlocked-grow", "stale-size"));
  EXPECT_THAT(chosen.why, ElementsAre("targets/vstore/src/storage/mapped_file.cc holds its code",
                                      "targets/vstore/src/storage/mapped_file.cc holds its code"));
  EXPECT_FALSE(chosen.everything);
}

TEST(SwitchSelection, AHarnessChangeOrAScenarioWithSwitchesSelectsEverySwitchButOtherScenariosNone) {
  auto harness = select_switches_for_change({"harness/src/run/run_matrix.cc"}, kSwitches, {}, files({}), 1, false);
  EXPECT_EQ(harness.ids.size(), kSwitches.size());
  EXPECT_TRUE(harness.everything);
  auto scenario = select_switches_for_change({"scenarios/a/vstore-thing.toml"}, kSwitches, {"scenarios/a/vstore-thing.toml"},
                                             files({}), 1, false);
  EXPECT_EQ(scenario.ids.size(), kSwitches.size());
  EXPECT_THAT(scenario.why[0], HasSubstr("its scenario file scenarios/a/vstore-thing.toml changed"));
  auto other = select_switches_for_change({"scenarios/a/faiss-only.toml"}, kSwitches, {"scenarios/a/vstore-thing.toml"},
                                          files({}), 1, false);
  EXPECT_TRUE(other.ids.empty());
}

TEST(SwitchSelection, ARemovedEngineFileOrAChangedDriverSelectsEverySwitchOfThatEngineOnly) {
  auto removed = select_switches_for_change({"targets/vstore/src/storage/gone.cc"}, kSwitches, {}, files({}), 1, false);
  EXPECT_THAT(removed.ids, ElementsAre("unlocked-grow", "stale-size", "recursive-filter"));
  EXPECT_EQ(removed.why[0], "targets/vstore/src/storage/gone.cc was removed");
  auto driver = select_switches_for_change({"targets/lmdb/driver/lmdb_driver.cc"}, kSwitches, {}, files({}), 1, false);
  EXPECT_THAT(driver.ids, ElementsAre("lmdb-thing"));
}

// The last full matrix: growth-readers caught unlocked-grow and stale-size,
// deep-filters caught recursive-filter; nothing caught lmdb-thing.
SwitchCatchers last_matrix(std::map<std::string, std::set<std::string>> names) {
  SwitchCatchers c;
  c.by_switch = {{"unlocked-grow", {"growth-readers"}},
                 {"stale-size", {"growth-readers", "cut-files"}},
                 {"recursive-filter", {"deep-filters"}},
                 {"lmdb-thing", {}}};
  c.names_in = [names](const std::string& path) {
    auto it = names.find(path);
    return it == names.end() ? std::set<std::string>{} : it->second;
  };
  c.source = "reports/detection-matrix.json (run R)";
  return c;
}

TEST(SwitchSelection, AScenarioEditTriesOnlyTheSwitchesItsScenariosCaughtInTheLastFullMatrix) {
  SwitchCatchers c = last_matrix({{"scenarios/c/growth.toml", {"growth-readers"}}, {"scenarios/d/deep.toml", {"deep-filters"}}});
  auto growth = select_switches_for_change({"scenarios/c/growth.toml"}, kSwitches, {"scenarios/c/growth.toml"}, files({}), 1,
                                           false, &c);
  EXPECT_THAT(growth.ids, ElementsAre("unlocked-grow", "stale-size"));
  EXPECT_EQ(growth.why[0],
            "scenarios/c/growth.toml changed, and its scenario growth-readers caught it in reports/detection-matrix.json (run R)");
  auto deep = select_switches_for_change({"scenarios/d/deep.toml"}, kSwitches, {"scenarios/d/deep.toml"}, files({}), 1, false, &c);
  EXPECT_THAT(deep.ids, ElementsAre("recursive-filter"));
  // A file whose scenarios caught nothing cannot make a switch escape.
  SwitchCatchers none = last_matrix({{"scenarios/e/plain.toml", {"plain-reads"}}});
  EXPECT_TRUE(select_switches_for_change({"scenarios/e/plain.toml"}, kSwitches, {"scenarios/e/plain.toml"}, files({}), 1, false,
                                         &none).ids.empty());
}

TEST(SwitchSelection, WithCatchersASwitchNeverTriedOrARemovedCatchingScenarioStillSelects) {
  std::vector<RegressionRef> with_new = kSwitches;
  with_new.push_back({"brand-new", "vstore"});
  SwitchCatchers c = last_matrix({{"scenarios/c/growth.toml", {"growth-readers"}}, {"scenarios/gone.toml", {"deep-filters"}}});
  auto growth = select_switches_for_change({"scenarios/c/growth.toml"}, with_new, {"scenarios/c/growth.toml"}, files({}), 1,
                                           false, &c);
  EXPECT_THAT(growth.ids, ElementsAre("unlocked-grow", "stale-size", "brand-new"));
  EXPECT_THAT(growth.why[2], HasSubstr("has no full-matrix result for it"));
  // Removed: no cells now, but its scenario (read at the merge base) caught recursive-filter.
  auto gone = select_switches_for_change({"scenarios/gone.toml"}, with_new, {"scenarios/c/growth.toml"}, files({}), 1, false, &c);
  EXPECT_THAT(gone.ids, ElementsAre("recursive-filter"));
  // Names unknown: every switch, as without catchers.
  SwitchCatchers blind = last_matrix({});
  EXPECT_EQ(select_switches_for_change({"scenarios/c/growth.toml"}, with_new, {"scenarios/c/growth.toml"}, files({}), 1, false,
                                       &blind).ids.size(), with_new.size());
}

TEST(RegressionLines, FindsEachLineNamingTheSwitchAsAWholeIdentifier) {
  std::string text =
      "int f() {\n"
      "  if (regression_enabled(Regression::stale_size)) return 1;\n"
      "  if (regression_enabled(Regression::stale_size_twice)) return 2;\n"
      "  return Regression::stale_size == x || Regression::stale_size == y;\n"
      "}\n// Regression::stale_size\n";
  EXPECT_THAT(regression_lines(text, "stale-size"), ElementsAre(2, 4, 6));
  EXPECT_THAT(regression_lines(text, "unlocked-grow"), ::testing::IsEmpty());
}

TEST(SwitchFunctions, TheRecordedFunctionsHoldingTheSwitchsLinesOrNothingWhenOneIsUnplaced) {
  World w;
  std::string open = "targets/vstore/src/storage/open.cc";
  EXPECT_THAT(*switch_functions(w.footprints, {{open, 12}, {open, 40}}, {}), ElementsAre(0, 1));
  // Three lines added at the top since the recording: working-tree line 15 was line 12.
  EXPECT_THAT(*switch_functions(w.footprints, {{open, 15}}, {{open, {{0, 0, 1, 3}}}}), ElementsAre(0));
  EXPECT_FALSE(switch_functions(w.footprints, {{open, 2}}, {{open, {{0, 0, 1, 3}}}})) << "a line added since";
  // The switch's own line edited since the recording: the function that held the line it replaced.
  EXPECT_THAT(*switch_functions(w.footprints, {{open, 41}}, {{open, {{41, 1, 41, 1}}}}), ElementsAre(1));
  EXPECT_FALSE(switch_functions(w.footprints, {{open, 31}}, {})) << "between functions";
  EXPECT_FALSE(switch_functions(w.footprints, {{"targets/vstore/src/new.cc", 3}}, {})) << "a file no footprint knows";
  EXPECT_FALSE(switch_functions(w.footprints, {}, {})) << "no line names it";
}

TEST(ScenarioNamesIn, ReadsTheTopLevelNameOnly) {
  EXPECT_THAT(scenario_names_in("# a comment\nname = \"cut-then-read\"\nsummary = \"x\"\n[[step]]\nname = \"step-name\"\n"),
              ElementsAre("cut-then-read"));
  EXPECT_THAT(scenario_names_in("  name=\"tight\""), ElementsAre("tight"));
  EXPECT_THAT(scenario_names_in("names = \"no\"\nsummary = \"name = \\\"no\\\"\"\n"), ::testing::IsEmpty());
}

TEST(SwitchSelection, TheRotatingSwitchAddsOneOfTheRestAndMovesWithTheSeed) {
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    auto chosen = select_switches_for_change({"README.md"}, kSwitches, {}, files({}), seed, true);
    ASSERT_EQ(chosen.ids.size(), 1u);
    EXPECT_EQ(chosen.why[0], "the rotating switch of this commit");
    seen.insert(chosen.ids[0]);
  }
  EXPECT_EQ(seen.size(), kSwitches.size()) << "over 64 commits every switch takes its turn";
  auto with_code = select_switches_for_change({"targets/vstore/src/storage/mapped_file.cc"}, kSwitches, {},
                                              files({{"targets/vstore/src/storage/mapped_file.cc", "Regression::stale_size"}}),
                                              7, true);
  ASSERT_EQ(with_code.ids.size(), 2u);
  EXPECT_NE(with_code.ids[0], with_code.ids[1]);
}

}  // namespace
}  // namespace crashgate
