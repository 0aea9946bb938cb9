// `crashgate run --regression ID` (run_regression.h): a historical bug put
// back in every cell whose build has the switches, and the gate sees it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "crashgate/run_regression.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;


TEST(RunRegression, ABuildHasTheSwitchesWhenItsCMakeCacheSaysSo) {
  std::string root = testing::scratch_dir("cache-root");
  std::filesystem::create_directories(root + "/debug");
  std::filesystem::create_directories(root + "/release");
  std::ofstream(root + "/debug/CMakeCache.txt") << "X:BOOL=OFF\nVSTORE_REGRESSIONS:BOOL=ON\n";
  std::ofstream(root + "/release/CMakeCache.txt") << "VSTORE_REGRESSIONS:BOOL=OFF\n";
  EXPECT_TRUE(build_has_regressions(root, "debug"));
  EXPECT_FALSE(build_has_regressions(root, "release"));
  EXPECT_FALSE(build_has_regressions(root, "asan")) << "no build tree: no switches";
}

TEST(RunRegression, IdsAreAddedToTheCellsOwnOnce) {
  Cell cell;
  cell.regression = "in-place-compaction";
  add_regressions(cell, "unvalidated-header,in-place-compaction");
  EXPECT_EQ(cell.regression, "in-place-compaction,unvalidated-header");
  Cell plain;
  add_regressions(plain, "stale-size");
  EXPECT_EQ(plain.regression, "stale-size");
  EXPECT_TRUE(regression_ids_error("Stale size"));
  EXPECT_TRUE(regression_ids_error(","));
  EXPECT_FALSE(regression_ids_error("stale-size,offset32"));
}

TEST(RunRegression, ARunWhereNoBuildHasTheSwitchesIsAUsageError) {
  std::string out = testing::scratch_dir("reports");
  Outcome o = testing::crashgate_run({"vstore"}, testing::fake_build_root(), out,
                                     {"--build", testing::this_build(), "--regression", "unvalidated-header"});
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--regression unvalidated-header: no selected build has regression "
                                                 "switches compiled in (" + testing::this_build() + " under "));
  Outcome bad = testing::crashgate_run({"vstore"}, testing::fake_build_root(), out,
                                       {"--build", testing::this_build(), "--regression", "Not An Id"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_excerpt.text(), HasSubstr("--regression 'Not An Id': ids are lowercase words"));
}

TEST(RunRegression, TheSwitchTurnsACleanErrorIntoANewCrashTheGateBlocks) {
  if (!VSTORE_HAS_REGRESSIONS) GTEST_SKIP() << "regression switches are not compiled into this build";
  std::string root = testing::fake_build_root();
  std::ofstream(root + "/" + testing::this_build() + "/CMakeCache.txt") << "VSTORE_REGRESSIONS:BOOL=ON\n";
  std::string out = testing::scratch_dir("reports");
  std::string filter = "*[cut=0]";
  Outcome clean = testing::crashgate_run({"vstore"}, root, out, {"--build", testing::this_build(), "--filter", filter});
  ASSERT_EQ(clean.exit_code, 0) << testing::output_of(clean);
  std::string baseline = out + "/baseline.json";
  ASSERT_EQ(testing::run_crashgate({"baseline", "update", out + "/latest", "--out", baseline}).exit_code, 0);

  Outcome broken = testing::crashgate_run({"vstore"}, root, out, {"--build", testing::this_build(), "--filter", filter,
                                                                  "--regression", "unvalidated-header"});
  EXPECT_EQ(broken.exit_code, 1) << testing::output_of(broken);
  EXPECT_THAT(broken.stdout_excerpt.text(), HasSubstr("regression unvalidated-header switched on in 1 of 1 cells"));
  auto results = testing::latest_results(out);
  EXPECT_EQ(results["regression"], "unvalidated-header");
  const auto& cell = results["cells"][0];
  EXPECT_EQ(cell["regression"], "unvalidated-header");
  EXPECT_NE(cell["outcome"]["kind"], "error") << "the corrupt error became a crash: " << cell["outcome"].dump();
  EXPECT_EQ(cell["outcome"]["signature"].get<std::string>().size(), 16u) << cell["outcome"].dump();

  Outcome gate = testing::run_crashgate({"gate", out + "/latest", "--baseline", baseline, "--rerun-failures", "1"});
  EXPECT_EQ(gate.exit_code, 1) << testing::output_of(gate);
  std::string md = gate.stdout_excerpt.text();
  EXPECT_THAT(md, HasSubstr("### New crash signatures (1)"));
  EXPECT_THAT(md, HasSubstr("of scenario `vstore-truncated-vectors` (1)"));
  EXPECT_THAT(md, HasSubstr("why it blocks: new crash signature"));
  EXPECT_THAT(md, HasSubstr("Regression switched on for every cell that can take it: `unvalidated-header`"));
}

}  // namespace
}  // namespace crashgate
