// `crashgate footprints`: an llvm-cov export turned into a footprint (the
// repository's files with a covered line), footprints deduplicated into the
// file change selection reads, and the command end to end: its error without
// a coverage build, and a recording when build/coverage is there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

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

// One file entry of `llvm-cov export -summary-only`, with only what matters here.
std::string export_file(const std::string& filename, int covered_lines) {
  return R"({"filename": ")" + filename + R"(", "summary": {"lines": {"count": 40, "covered": )" +
         std::to_string(covered_lines) + R"(, "percent": 1.0}, "functions": {"count": 2, "covered": 1}}})";
}

std::string export_document(const std::vector<std::string>& files) {
  std::string joined;
  for (const auto& f : files) joined += (joined.empty() ? "" : ",") + f;
  return R"({"type": "llvm.coverage.json.export", "version": "2.0.1", "data": [{"files": [)" + joined +
         R"(], "totals": {}}]})";
}

TEST(CoveredRepositoryFiles, KeepsRepositoryFilesWithACoveredLineRelativeToTheSourceRoot) {
  std::string doc = export_document({
      export_file("/src/repo/targets/vstore/src/storage/store_open.cc", 12),
      export_file("/src/repo/targets/vstore/src/filter/parse.cc", 0),          // compiled in, never run
      export_file("/usr/include/c++/12/bits/stl_vector.h", 300),              // outside the repository
      export_file("/src/repo-old/targets/vstore/src/storage/store.cc", 5),    // a sibling that shares the prefix
      export_file("/src/repo/build/coverage/generated/version.cc", 1),         // generated into the build
      export_file("/src/repo/harness/driver_kit/../include/crashgate/driver_kit.h", 3),
      export_file("/src/repo/targets/lmdb/driver/main.cc", 1),
  });
  auto files = covered_repository_files(doc, "/src/repo/", "/src/repo/build");
  ASSERT_TRUE(files) << files.error();
  EXPECT_THAT(*files, ElementsAre("harness/include/crashgate/driver_kit.h", "targets/lmdb/driver/main.cc",
                                  "targets/vstore/src/storage/store_open.cc"));
}

TEST(CoveredRepositoryFiles, WithoutABuildRootKeepsEveryCoveredFileUnderTheSourceRoot) {
  std::string doc = export_document({export_file("/src/repo/build/coverage/generated/version.cc", 1),
                                     export_file("/src/repo/targets/vstore/src/status.cc", 2)});
  auto files = covered_repository_files(doc, "/src/repo");
  ASSERT_TRUE(files) << files.error();
  EXPECT_THAT(*files, ElementsAre("build/coverage/generated/version.cc", "targets/vstore/src/status.cc"));
}

TEST(CoveredRepositoryFiles, ADocumentThatIsNoExportIsAnError) {
  EXPECT_FALSE(covered_repository_files("not json", "/src/repo"));
  EXPECT_FALSE(covered_repository_files("[1, 2]", "/src/repo"));
  auto empty = covered_repository_files(R"({"data": []})", "/src/repo");
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error(), HasSubstr("data"));
}

TEST(MakeFootprints, KeysThatExecutedTheSameFilesShareOneSet) {
  Footprints f = make_footprints("abc123", {
                                               {"open/vstore/*[cut=0]", {"targets/vstore/src/b.cc", "targets/vstore/src/a.cc"}},
                                               {"open/vstore/*[cut=1]", {"targets/vstore/src/a.cc", "targets/vstore/src/b.cc"}},
                                               {"env/lmdb/*", {"targets/lmdb/driver/env.cc"}},
                                           });
  EXPECT_EQ(f.recorded_at, "abc123");
  EXPECT_THAT(f.files, ElementsAre("targets/lmdb/driver/env.cc", "targets/vstore/src/a.cc", "targets/vstore/src/b.cc"));
  ASSERT_EQ(f.sets.size(), 2u);
  EXPECT_EQ(f.cells.at("open/vstore/*[cut=0]"), f.cells.at("open/vstore/*[cut=1]"));
  EXPECT_NE(f.cells.at("open/vstore/*[cut=0]"), f.cells.at("env/lmdb/*"));
  EXPECT_THAT(*f.files_of("open/vstore/*[cut=1]"), ElementsAre("targets/vstore/src/a.cc", "targets/vstore/src/b.cc"));
  EXPECT_THAT(*f.files_of("env/lmdb/*"), ElementsAre("targets/lmdb/driver/env.cc"));
}

TEST(MakeFootprints, WhatItMakesSurvivesSaveAndLoad) {
  Footprints f = make_footprints("abc123", {{"a/vstore/*", {"x.cc", "y.cc"}}, {"b/vstore/*", {}}});
  std::string path = testing::scratch_dir("footprints-roundtrip") + "/footprints.json";
  ASSERT_TRUE(save_footprints(f, path));
  auto loaded = load_footprints(path);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->files, f.files);
  EXPECT_EQ(loaded->sets, f.sets);
  EXPECT_EQ(loaded->cells, f.cells);
  EXPECT_THAT(*loaded->files_of("b/vstore/*"), ::testing::IsEmpty());  // recorded, executed no repository file
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
TEST(FootprintsCommand, RecordsTheRepositoryFilesEachKeyExecutedInTheCoverageBuild) {
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
}

}  // namespace
}  // namespace crashgate
