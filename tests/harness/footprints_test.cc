// `crashgate footprints`: an llvm-cov export turned into a footprint (the
// repository's functions a cell entered), footprints deduplicated into the
// file change selection reads, and the command end to end: its error without
// a coverage build, and a recording when build/coverage is there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include <fmt/format.h>

#include "crashgate/footprint_recording.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// One function entry of `llvm-cov export`, with only what matters here: its
// regions as [line, column, end line, end column, count, file id, ...].
std::string export_function(const std::string& name, const std::string& file, int count,
                            const std::vector<std::array<int, 3>>& regions /* first, last, file id */,
                            const std::string& other_file = "") {
  std::string r;
  for (const auto& [first, last, id] : regions)
    r += fmt::format("{}[{}, 1, {}, 2, {}, {}, 0, 0]", r.empty() ? "" : ", ", first, last, count, id);
  return fmt::format(R"({{"name": "{}", "count": {}, "filenames": ["{}"{}], "regions": [{}], "branches": []}})", name,
                     count, file, other_file.empty() ? "" : ", \"" + other_file + "\"", r);
}

std::string export_document(const std::vector<std::string>& functions) {
  std::string joined;
  for (const auto& f : functions) joined += (joined.empty() ? "" : ",") + f;
  return R"({"type": "llvm.coverage.json.export", "version": "2.0.1", "data": [{"files": [], "functions": [)" + joined +
         R"(], "totals": {}}]})";
}

TEST(RepositoryFunctions, KeepsTheFunctionsOfRepositoryFilesWithTheirLinesAndWhetherTheyRan) {
  std::string doc = export_document({
      export_function("_ZN6vstore5Store3getEm", "/src/repo/targets/vstore/src/storage/store_read.cc", 3, {{40, 60, 0}}),
      export_function("_ZN6vstore5parseEv", "/src/repo/targets/vstore/src/filter/parse.cc", 0, {{5, 9, 0}}),  // never ran
      export_function("_ZNSt6vectorIiE9push_backEi", "/usr/include/c++/12/bits/stl_vector.h", 7, {{1, 2, 0}}),
      export_function("_Z1fv", "/src/repo-old/targets/vstore/src/storage/store.cc", 5, {{1, 2, 0}}),  // a sibling
      export_function("_Z7versionv", "/src/repo/build/coverage/generated/version.cc", 1, {{1, 3, 0}}),
      export_function("_Z4openv", "/src/repo/harness/driver_kit/../include/crashgate/driver_kit.h", 2, {{12, 14, 0}}),
      // A macro expanded from another file: its regions there do not stretch the function's lines.
      export_function("_Z4mainv", "/src/repo/targets/lmdb/driver/main.cc", 1, {{3, 30, 0}, {900, 990, 1}},
                      "/src/repo/targets/lmdb/driver/macros.h"),
  });
  auto functions = repository_functions(doc, "/src/repo/", "/src/repo/build");
  ASSERT_TRUE(functions) << functions.error();
  EXPECT_THAT(*functions,
              ElementsAre(CoveredFunction{"harness/include/crashgate/driver_kit.h", 12, 14, "open()", true},
                          CoveredFunction{"targets/lmdb/driver/main.cc", 3, 30, "main()", true},
                          CoveredFunction{"targets/vstore/src/filter/parse.cc", 5, 9, "vstore::parse()", false},
                          CoveredFunction{"targets/vstore/src/storage/store_read.cc", 40, 60, "vstore::Store::get()", true}));
}

TEST(RepositoryFunctions, InstantiationsOfOneTemplateAreOneFunctionThatRanWhenAnyRan) {
  std::string doc = export_document({
      export_function("_ZN6vstore3maxIiEET_S1_S1_", "/r/targets/vstore/src/util.h", 0, {{7, 9, 0}}),
      export_function("_ZN6vstore3maxIlEET_S1_S1_", "/r/targets/vstore/src/util.h", 4, {{7, 9, 0}}),
  });
  auto functions = repository_functions(doc, "/r");
  ASSERT_TRUE(functions) << functions.error();
  ASSERT_EQ(functions->size(), 1u);
  EXPECT_TRUE((*functions)[0].executed);
  EXPECT_EQ((*functions)[0].name, "int vstore::max()");  // a template's name says its return type
}

TEST(RepositoryFunctions, ADocumentThatIsNoFullExportIsAnErrorThatSaysWhy) {
  EXPECT_FALSE(repository_functions("not json", "/src/repo"));
  EXPECT_FALSE(repository_functions("[1, 2]", "/src/repo"));
  auto empty = repository_functions(R"({"data": []})", "/src/repo");
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error(), HasSubstr("data"));
  auto summary = repository_functions(R"({"data": [{"files": [], "totals": {}}]})", "/src/repo");
  ASSERT_FALSE(summary);
  EXPECT_THAT(summary.error(), HasSubstr("-summary-only"));
  auto regions = repository_functions(
      R"({"data": [{"functions": [{"name": "f", "count": 1, "filenames": ["/src/repo/a.cc"], "regions": [["x"]]}]}]})",
      "/src/repo");
  ASSERT_FALSE(regions);
  EXPECT_THAT(regions.error(), HasSubstr("functions[0] has a malformed region"));
}

TEST(ShortFunctionName, DemanglesAndElidesArgumentsAndTheLocalSymbolsFilePrefix) {
  EXPECT_EQ(short_function_name("_ZN6vstore5Store3getEm"), "vstore::Store::get()");
  EXPECT_EQ(short_function_name("targets/vstore/src/a.cc:_ZN12_GLOBAL__N_14stepEi"), "{anonymous}::step()");
  EXPECT_EQ(short_function_name("_ZN6vstore3maxIiEET_S1_S1_"), "int vstore::max()");
  EXPECT_EQ(short_function_name("plain_c_function"), "plain_c_function");
  EXPECT_EQ(short_function_name(std::string(300, 'x')).size(), 160u);
}

TEST(MakeFootprints, KeysThatExecutedTheSameFunctionsShareOneSetAndEveryFunctionIsListedOnce) {
  CoveredFunction a{"targets/vstore/src/a.cc", 1, 9, "a()", true}, b{"targets/vstore/src/b.cc", 3, 7, "b()", true},
      idle{"targets/vstore/src/b.cc", 10, 12, "idle()", false}, env{"targets/lmdb/driver/env.cc", 1, 4, "env()", true};
  Footprints f = make_footprints("abc123", {
                                               {"open/vstore/*[cut=0]", {b, a, idle}},
                                               {"open/vstore/*[cut=1]", {a, b, idle}},
                                               {"env/lmdb/*", {env}},
                                           });
  EXPECT_EQ(f.recorded_at, "abc123");
  EXPECT_THAT(f.files, ElementsAre("targets/lmdb/driver/env.cc", "targets/vstore/src/a.cc", "targets/vstore/src/b.cc"));
  EXPECT_THAT(f.functions, ElementsAre(FootprintFunction{0, 1, 4, "env()"}, FootprintFunction{1, 1, 9, "a()"},
                                       FootprintFunction{2, 3, 7, "b()"}, FootprintFunction{2, 10, 12, "idle()"}));
  ASSERT_EQ(f.sets.size(), 2u);
  EXPECT_EQ(f.cells.at("open/vstore/*[cut=0]"), f.cells.at("open/vstore/*[cut=1]"));
  EXPECT_THAT(*f.functions_of("open/vstore/*[cut=0]"), ElementsAre(1, 2)) << "idle() did not run";
  EXPECT_THAT(*f.files_of("open/vstore/*[cut=1]"), ElementsAre("targets/vstore/src/a.cc", "targets/vstore/src/b.cc"));
  EXPECT_THAT(*f.files_of("env/lmdb/*"), ElementsAre("targets/lmdb/driver/env.cc"));
}

TEST(MakeFootprints, WhatItMakesSurvivesSaveAndLoad) {
  Footprints f = make_footprints("abc123", {{"a/vstore/*", {{"x.cc", 1, 5, "x()", true}, {"y.cc", 2, 3, "y()", true}}},
                                            {"b/vstore/*", {{"x.cc", 1, 5, "x()", false}}}});
  std::string path = testing::scratch_dir("footprints-roundtrip") + "/footprints.json";
  ASSERT_TRUE(save_footprints(f, path));
  auto loaded = load_footprints(path);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->files, f.files);
  EXPECT_EQ(loaded->functions, f.functions);
  EXPECT_EQ(loaded->sets, f.sets);
  EXPECT_EQ(loaded->cells, f.cells);
  EXPECT_THAT(*loaded->files_of("b/vstore/*"), ::testing::IsEmpty());  // recorded, executed no repository function
}

TEST(FootprintsCommand, WithoutACoverageBuildSaysHowToBuildItAndWritesNothing) {
  std::string root = testing::fake_build_root();  // this build's drivers only
  std::string out = testing::scratch_dir("footprints-no-coverage") + "/footprints.json";
  Outcome o = testing::run_crashgate({"footprints", testing::run_fixture("vstore"), "--build-root", root, "--out", out});
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("coverage/bin/crashgate-driver-vstore"));
  EXPECT_THAT(o.stderr_excerpt.text(),
              HasSubstr("cmake --preset coverage && cmake --build --preset coverage --target crashgate_drivers"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(FootprintsCommand, AnUnknownFlagOrUnreadableScenarioIsAUsageError) {
  Outcome flag = testing::run_crashgate({"footprints", "--no-such-flag"});
  EXPECT_EQ(flag.exit_code, 2) << testing::output_of(flag);
  Outcome missing = testing::run_crashgate(
      {"footprints", testing::scratch_dir("footprints-nothing") + "/absent.toml", "--build-root", testing::fake_build_root()});
  EXPECT_EQ(missing.exit_code, 2) << testing::output_of(missing);
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr("absent.toml"));
}

// Needs the coverage preset's vstore driver, built in this source tree.
TEST(FootprintsCommand, RecordsTheRepositoryFunctionsEachKeyExecutedInTheCoverageBuild) {
  std::string build_root = testing::source_dir() + "/build";
  if (!fs::exists(build_root + "/coverage/bin/crashgate-driver-vstore"))
    GTEST_SKIP() << build_root << "/coverage has no vstore driver: "
                 << "cmake --preset coverage && cmake --build --preset coverage --target crashgate_drivers";
  std::string out = testing::scratch_dir("footprints-recorded") + "/footprints.json";
  Outcome o = testing::run_crashgate(
      {"footprints", testing::run_fixture("vstore"), "--build-root", build_root, "--out", out, "-j", "2"},
      {.wall = std::chrono::seconds(240)});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("3 cells recorded"));
  auto footprints = load_footprints(out);
  ASSERT_TRUE(footprints) << footprints.error();
  EXPECT_NE(footprints->recorded_at, "");
  // One key per cut, whatever the builds the scenario names.
  ASSERT_EQ(footprints->cells.size(), 3u);
  auto files = footprints->files_of("vstore-truncated-vectors/vstore/*[cut=header]");
  ASSERT_TRUE(files);
  EXPECT_THAT(*files, Contains("targets/vstore/driver/main.cc"));
  EXPECT_THAT(*files, Contains(::testing::StartsWith("targets/vstore/src/storage/")));
  for (const auto& file : footprints->files) {
    EXPECT_THAT(file, Not(StartsWith("/")));
    EXPECT_THAT(file, Not(StartsWith("build/")));
  }
  // The driver's main() ran in every cell, with its lines in its file.
  const auto* ran = footprints->functions_of("vstore-truncated-vectors/vstore/*[cut=header]");
  ASSERT_TRUE(ran);
  bool main_ran = false;
  for (auto i : *ran) {
    const auto& f = footprints->functions[i];
    EXPECT_LE(f.first, f.last);
    if (f.name == "main" && footprints->files[f.file] == "targets/vstore/driver/main.cc") main_ran = true;
  }
  EXPECT_TRUE(main_ran);
}

}  // namespace
}  // namespace crashgate
