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
// files each executed: the open path, the search path, the LMDB driver.
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
    footprints.files = {"targets/vstore/src/storage/open.cc", "targets/vstore/src/index/search.cc",
                        "targets/vstore/driver/main.cc", "targets/lmdb/driver/env.cc"};
    footprints.sets = {{0, 2}, {0, 1, 2}, {3}};
    footprints.cells = {{"open/vstore/*[cut=0]", 0}, {"search/vstore/*", 1}, {"env/lmdb/*", 2}};
    // "fresh/lmdb/*" has no footprint: added since they were recorded.
  }
  ChangeSelection select(std::vector<std::string> changed, double sample = 0) const {
    ChangeSelectionOptions options;
    options.changed_files = std::move(changed);
    options.sample = sample;
    return select_for_change(cells, footprints, options);
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
  w.footprints.sets[2].push_back(4);
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
  EXPECT_EQ(loaded->sets, w.footprints.sets);
  EXPECT_EQ(loaded->cells, w.footprints.cells);
  EXPECT_EQ(loaded->recorded_at, "abc123");
}

TEST(Footprints, LoadRefusesAFileIndexPastTheListNamingTheFootprint) {
  std::string path = testing::scratch_dir("footprints") + "/bad.json";
  std::ofstream(path) << R"({"format": "crashgate.footprints/1", "recorded_at": "x", "files": ["a.cc"],
                            "footprints": [[0], [0, 3]], "cells": {"s/t/*": 1}})";
  auto loaded = load_footprints(path);
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error(), HasSubstr("footprints[1] names file 3 of 1"));
  EXPECT_THAT(loaded.error(), HasSubstr(path));
  std::ofstream(path) << R"({"format": "crashgate.result/1"})";
  EXPECT_THAT(load_footprints(path).error(), HasSubstr("not crashgate.footprints/1"));
  EXPECT_THAT(load_footprints(path + ".missing").error(), HasSubstr("cannot be read"));
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
