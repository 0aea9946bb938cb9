// `crashgate run` end to end: scenario fixtures (tests/harness/data/run/) run
// by the crashgate binary against the test driver and this build's vstore driver.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::crashgate_run;
using testing::fake_build_root;
using testing::latest_results;
using testing::results_cell;
using testing::scratch_dir;
using testing::this_build;

std::string out_text(const Outcome& o) { return o.stdout_excerpt.text(); }
std::string err_text(const Outcome& o) { return o.stderr_excerpt.text(); }

// "name/test/<this build>[params]"
std::string cell_id(const std::string& name, const std::string& target, const std::string& params = "") {
  return name + "/" + target + "/" + this_build() + (params.empty() ? "" : "[" + params + "]");
}

TEST(RunCommand, CellsMeetingTheirExpectationsExitZeroAndAreWrittenToResultsJson) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"basic"}, fake_build_root(), out, {"--build", this_build(), "-j", "2"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(out_text(o), HasSubstr("3 cells"));
  EXPECT_THAT(out_text(o), HasSubstr("3 pass"));
  EXPECT_THAT(out_text(o), HasSubstr("seed 1"));
  EXPECT_TRUE(std::filesystem::is_symlink(out + "/latest"));

  auto results = latest_results(out);
  EXPECT_EQ(results["schema"], "crashgate.results/1");
  EXPECT_EQ(results["seed"], 1);
  EXPECT_EQ(results["exit_code"], 0);
  EXPECT_EQ(results["interrupted"], false);
  EXPECT_EQ(results["counts"]["pass"], 3);
  EXPECT_EQ(results["cells"].size(), 3u);
  EXPECT_THAT(results["command_line"].dump(), HasSubstr("\"--build\""));
  EXPECT_FALSE(results["host"].get<std::string>().empty());
  EXPECT_FALSE(results["started_at"].get<std::string>().empty());

  const auto& cell = results_cell(results, cell_id("truncated", "test", "cut=100"));
  EXPECT_EQ(cell["verdict"], "pass");
  EXPECT_EQ(cell["scenario"], "truncated");
  EXPECT_THAT(cell["scenario_file"].get<std::string>(), HasSubstr("basic/truncated.toml"));
  EXPECT_EQ(cell["origin"], "field-reports/000_391c9c321774cbc0.txt");
  EXPECT_EQ(cell["regression"], "stale-size");
  EXPECT_EQ(cell["target"], "test");
  EXPECT_EQ(cell["build"], this_build());
  EXPECT_EQ(cell["params"]["cut"], "100");
  EXPECT_EQ(cell["limits"]["wall_ms"], 20000);
  EXPECT_EQ(cell["steps"][1]["to"], "100");
  EXPECT_EQ(cell["expectation"]["signal"], "SIGBUS");
  EXPECT_EQ(cell["expectation"]["step"], 2);
  EXPECT_EQ(cell["attempts"], 1);
  EXPECT_EQ(cell["outcome"]["kind"], "signal");
  EXPECT_EQ(cell["outcome"]["signal"], "SIGBUS");
  EXPECT_EQ(cell["outcome"]["failed_step"], 2);
  EXPECT_EQ(cell["outcome"]["attribution"]["file_size"], 100);
  EXPECT_THAT(cell["repro"].get<std::string>(), HasSubstr("repro '" + cell_id("truncated", "test", "cut=100") + "' --run "));
  EXPECT_TRUE(std::filesystem::exists(cell["work_dir"].get<std::string>() + "/cell.json"));
  EXPECT_FALSE(std::filesystem::exists(cell["work_dir"].get<std::string>() + "/vectors.bin"))
      << "a passing cell's store is pruned";
}

TEST(RunCommand, KeepWorkDirsKeepsWhatPassingCellsLeft) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"basic/fine.toml"}, fake_build_root(), out, {"--build", this_build(), "--keep-work-dirs"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto cell = results_cell(latest_results(out), cell_id("fine", "test"));
  EXPECT_TRUE(std::filesystem::exists(cell["work_dir"].get<std::string>() + "/vectors.bin"));
}

TEST(RunCommand, AWrongExpectationFailsExitsOneAndTheSummarySaysWhatDiffered) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"failing"}, fake_build_root(), out, {"--build", this_build()});
  ASSERT_EQ(o.exit_code, 1) << testing::output_of(o);
  std::string id = cell_id("wrong-expectation", "test");
  EXPECT_THAT(out_text(o), HasSubstr("failed:\n  " + id));
  EXPECT_THAT(out_text(o), HasSubstr("expected  error corrupt"));
  EXPECT_THAT(out_text(o), HasSubstr("got       ok: exited with status 0"));
  EXPECT_THAT(out_text(o), HasSubstr("repro     "));
  auto cell = results_cell(latest_results(out), id);
  EXPECT_EQ(cell["verdict"], "fail");
  EXPECT_THAT(cell["unmet"].dump(), HasSubstr("outcome: expected error, got ok"));
  EXPECT_THAT(cell["unmet"].dump(), HasSubstr("code: expected corrupt, got none"));
  EXPECT_TRUE(std::filesystem::exists(cell["work_dir"].get<std::string>() + "/vectors.bin"))
      << "a failing cell keeps what its driver left, for diagnosis";
}

TEST(RunCommand, AMalformedFileExitsTwoNamingEveryErrorAndRunsNothing) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"malformed"}, fake_build_root(), out);
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  std::string dir = testing::run_fixture("malformed");
  EXPECT_THAT(err_text(o), HasSubstr(dir + "/bad-op.toml:5:6: step 0: unknown op 'explode'"));
  EXPECT_THAT(err_text(o), HasSubstr(dir + "/bad-expect.toml:8:11: unknown outcome 'crashed'"));
  EXPECT_THAT(err_text(o), HasSubstr("nothing was run"));
  EXPECT_TRUE(std::filesystem::is_empty(out)) << "a run directory was created";
}

TEST(RunCommand, AMissingDriverIsAHarnessErrorThatSaysHowToBuildIt) {
  std::string out = scratch_dir("reports");
  std::string other = this_build() == "asan" ? "tsan" : "asan";
  Outcome o = crashgate_run({"basic/fine.toml"}, fake_build_root(), out, {"--build", this_build() + "," + other});
  ASSERT_EQ(o.exit_code, 3) << testing::output_of(o);
  EXPECT_THAT(out_text(o), HasSubstr("build it with `ci/build " + other + "`"));
  auto results = latest_results(out);
  EXPECT_EQ(results_cell(results, "fine/test/" + this_build())["verdict"], "pass");
  auto missing = results_cell(results, "fine/test/" + other);
  EXPECT_EQ(missing["verdict"], "harness-error");
  EXPECT_EQ(missing["outcome"]["kind"], "harness-error");
  EXPECT_EQ(missing["work_dir"], "") << "nothing ran";
  EXPECT_THAT(missing["outcome"]["detail"].get<std::string>(), HasSubstr(other + "/bin/crashgate-driver-test does not exist"));
}

TEST(RunCommand, AFailingCellThatPassesOnARerunIsFlakyWithBothOutcomes) {
  std::string out = scratch_dir("reports");
  std::string root = fake_build_root();
  Outcome o = crashgate_run({"flaky"}, root, out, {"--build", this_build(), "--rerun-failures", "2"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(out_text(o), HasSubstr("1 flaky"));
  EXPECT_THAT(out_text(o), HasSubstr("flaky (met the expectation on a rerun):"));
  auto cell = results_cell(latest_results(out), cell_id("fails-once", "test"));
  EXPECT_EQ(cell["verdict"], "flaky");
  EXPECT_EQ(cell["attempts"], 2);
  EXPECT_EQ(cell["outcome"]["kind"], "error");
  ASSERT_EQ(cell["reruns"].size(), 1u);
  EXPECT_EQ(cell["reruns"][0]["verdict"], "pass");
  EXPECT_EQ(cell["reruns"][0]["outcome"]["kind"], "ok");

  // Without reruns the same cell simply fails.
  std::string out2 = scratch_dir("reports-no-rerun");
  Outcome once = crashgate_run({"flaky"}, root, out2, {"--build", this_build()});
  EXPECT_EQ(once.exit_code, 1) << testing::output_of(once);
  EXPECT_EQ(results_cell(latest_results(out2), cell_id("fails-once", "test"))["verdict"], "fail");
}

TEST(RunCommand, FilterBuildAndTargetSelectTheCellsThatRun) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"basic", "vstore"}, fake_build_root(), out,
                            {"--build", this_build(), "--target", "test", "--filter", "*cut=0]"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto results = latest_results(out);
  ASSERT_EQ(results["cells"].size(), 1u) << results["cells"].dump(1);
  EXPECT_EQ(results["cells"][0]["id"], cell_id("truncated", "test", "cut=0"));
}

TEST(RunCommand, SelectionsThatNameNothingAreUsageErrors) {
  std::string root = fake_build_root(), out = scratch_dir("reports");
  Outcome typo = crashgate_run({"basic"}, root, out, {"--build", "relase"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(err_text(typo), HasSubstr("--build relase: no scenario names this build"));
  Outcome target = crashgate_run({"basic"}, root, out, {"--target", "hnswlib"});
  EXPECT_EQ(target.exit_code, 2);
  EXPECT_THAT(err_text(target), HasSubstr("--target hnswlib"));
  Outcome none = crashgate_run({"basic"}, root, out, {"--filter", "nothing*"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(err_text(none), HasSubstr("no cells match"));
  Outcome missing = crashgate_run({"no-such-dir"}, root, out);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(err_text(missing), HasSubstr("no-such-dir:0:0: no such file or directory"));
}

TEST(RunCommand, InBuildsRunsAScenarioInBuildsItDoesNotName) {
  // A scenario that names only another build, as the engine scenarios name only release.
  std::string other = this_build() == "release" ? "debug" : "release";
  std::string dir = scratch_dir("in-builds");
  testing::write_file(dir + "/elsewhere.toml", "name = \"elsewhere\"\nsummary = \"s\"\ntargets = [\"test\"]\nbuilds = [\"" + other +
                                                   "\"]\n[[step]]\nop = \"create\"\ndim = 4\nvectors = 8\n[[step]]\nop = \"count\"\n[expect]\noutcome = \"ok\"\n");
  std::string root = fake_build_root(), out = scratch_dir("reports");
  std::vector<std::string> base = {"run", dir, "--build-root", root, "--out", out};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_crashgate(args);
  };
  Outcome named_only = with({"--build", this_build()});
  EXPECT_EQ(named_only.exit_code, 2);
  EXPECT_THAT(err_text(named_only), HasSubstr("--build " + this_build() + ": no scenario names this build"));

  Outcome moved = with({"--in-builds", this_build()});
  ASSERT_EQ(moved.exit_code, 0) << testing::output_of(moved);
  auto results = latest_results(out);
  ASSERT_EQ(results["cells"].size(), 1u) << results["cells"].dump(1);
  EXPECT_EQ(results["cells"][0]["id"], "elsewhere/test/" + this_build());

  Outcome typo = with({"--in-builds", "asn"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(err_text(typo), HasSubstr("--in-builds asn: not a build (the builds: release, debug, asan, tsan, fuzz, coverage)"));
}

TEST(RunCommand, TheSeedIsRecordedAndDecidesEveryCellsSeed) {
  std::string root = fake_build_root();
  auto cell_seed = [&](const std::string& out, std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--build", this_build()});
    Outcome o = crashgate_run({"basic/fine.toml"}, root, out, extra);
    EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
    auto results = latest_results(out);
    return std::pair{results["seed"].get<std::uint64_t>(), results["cells"][0]["seed"].get<std::uint64_t>()};
  };
  auto [default_seed, first] = cell_seed(scratch_dir("a"), {});
  auto [same_seed, again] = cell_seed(scratch_dir("b"), {});
  auto [chosen, other] = cell_seed(scratch_dir("c"), {"--seed", "42"});
  EXPECT_EQ(default_seed, same_seed);
  EXPECT_EQ(first, again) << "the default seed is fixed, so runs reproduce";
  EXPECT_EQ(chosen, 42u);
  EXPECT_NE(first, other);
}

TEST(RunCommand, VstoreReportsATruncatedVectorsFileAsACorruptError) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"vstore"}, fake_build_root(), out, {"--build", this_build(), "-j", "2"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto results = latest_results(out);
  ASSERT_EQ(results["counts"]["pass"], 3) << results.dump(1).substr(0, 4000);
  auto cell = results_cell(results, cell_id("vstore-truncated-vectors", "vstore", "cut=header-1"));
  EXPECT_EQ(cell["outcome"]["kind"], "error");
  EXPECT_EQ(cell["outcome"]["steps"][2]["code"], "corrupt");
  EXPECT_THAT(cell["driver"].get<std::string>(), HasSubstr("crashgate-driver-vstore"));
}

TEST(RunCommand, VstoreHealthyStoreExpectedCorruptFails) {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"vstore-failing"}, fake_build_root(), out, {"--build", this_build()});
  ASSERT_EQ(o.exit_code, 1) << testing::output_of(o);
  auto cell = results_cell(latest_results(out), cell_id("vstore-healthy-expected-corrupt", "vstore"));
  EXPECT_EQ(cell["verdict"], "fail");
  EXPECT_EQ(cell["outcome"]["kind"], "ok");
  EXPECT_THAT(out_text(o), Not(HasSubstr("harness errors")));
}

}  // namespace
}  // namespace crashgate
