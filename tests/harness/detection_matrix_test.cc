// The detection matrix: how a bug "shows", which cells the matrix plans for
// each switch, how a finished run is judged, and `crashgate matrix` end to end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "crashgate/detection_matrix.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

Outcome signal_outcome(int signo, bool past_eof) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.signal = signo;
  if (past_eof) {
    o.attribution = Attribution{};
    o.attribution->past_eof = true;
  }
  return o;
}

Outcome error_outcome(const std::string& code) {
  Outcome o;
  o.kind = OutcomeKind::error;
  o.failed_step = 2;
  o.steps = {{0, "create", StepStatus::ok, "", "", 1, {}}, {1, "add", StepStatus::ok, "", "", 1, {}}, {2, "verify", StepStatus::error, code, "record 7 is missing", 1, {}}};
  return o;
}

TEST(ShowsAs, SigbusPastEofNeedsTheSignalAndTheAttribution) {
  EXPECT_TRUE(outcome_shows_as(signal_outcome(SIGBUS, true), "signal:SIGBUS@past-eof"));
  EXPECT_FALSE(outcome_shows_as(signal_outcome(SIGBUS, false), "signal:SIGBUS@past-eof"));
  EXPECT_FALSE(outcome_shows_as(signal_outcome(SIGSEGV, true), "signal:SIGBUS@past-eof"));
  EXPECT_TRUE(outcome_shows_as(signal_outcome(SIGSEGV, false), "signal:SIGBUS|signal:SIGSEGV"));
}

TEST(ShowsAs, ErrorDetailIsTheFailedStepsCode) {
  EXPECT_TRUE(outcome_shows_as(error_outcome("wrong-result"), "error:wrong-result"));
  EXPECT_FALSE(outcome_shows_as(error_outcome("corrupt"), "error:wrong-result"));
  EXPECT_TRUE(outcome_shows_as(error_outcome("corrupt"), "error"));
}

TEST(ShowsAs, SanitizerDetailIsTheChecksFirstWord) {
  Outcome tsan;
  tsan.kind = OutcomeKind::tsan;
  tsan.check = "data-race WRITE 4";
  EXPECT_TRUE(outcome_shows_as(tsan, "tsan:data-race"));
  EXPECT_TRUE(outcome_shows_as(tsan, "asan|tsan"));
  EXPECT_FALSE(outcome_shows_as(tsan, "tsan:heap-use-after-free"));
  Outcome overflow;
  overflow.kind = OutcomeKind::stack_overflow;
  EXPECT_TRUE(outcome_shows_as(overflow, "stack-overflow"));
  EXPECT_FALSE(outcome_shows_as(overflow, "signal:SIGSEGV"));
}

TEST(ShowsAs, UnreadablePatternsAreNamed) {
  EXPECT_EQ(shows_as_problem("signal:SIGBUS@past-eof|tsan:data-race"), "");
  EXPECT_THAT(shows_as_problem("signl:SIGBUS"), HasSubstr("'signl'"));
  EXPECT_THAT(shows_as_problem("signal:SIGBUS@nowhere"), HasSubstr("'@nowhere'"));
  EXPECT_THAT(shows_as_problem(""), HasSubstr("empty"));
}

PlannedCell planned(const std::string& scenario, const std::string& build, int i, const std::string& regression = "",
                    const std::string& target = "vstore") {
  PlannedCell p;
  p.cell.scenario = scenario;
  p.cell.target = target;
  p.cell.build = build;
  p.cell.id = fmt::format("{}/{}/{}[i={}]", scenario, target, build, i);
  p.cell.params = {{"i", std::to_string(i)}};
  p.cell.regression = regression;
  return p;
}

std::vector<PlannedCell> sample_catalog() {
  std::vector<PlannedCell> c;
  for (int i = 0; i < 5; ++i) c.push_back(planned("cut", "release", i));
  for (const char* build : {"debug", "tsan"})
    for (int i = 0; i < 2; ++i) c.push_back(planned("race", build, i));
  c.push_back(planned("replay", "debug", 0, "sig"));
  return c;
}

const std::vector<RegressionSwitch> kSwitches = {{"sig", "000", "reads past the end", "signal:SIGBUS@past-eof", "vstore"},
                                                 {"race", "-", "unlocked links", "tsan:data-race", "vstore"}};

std::vector<std::string> injected_ids(const std::vector<MatrixCell>& plan, const std::string& regression) {
  std::vector<std::string> ids;
  for (const MatrixCell& m : plan)
    if (m.role == MatrixRole::injected && m.planned.cell.regression == regression) ids.push_back(m.planned.cell.id);
  return ids;
}

TEST(MatrixPlan, InjectedCellsRunThePlainBuildAndTheSanitizerTheBugShowsUnder) {
  std::vector<MatrixCell> plan = plan_detection_matrix(sample_catalog(), kSwitches, {});
  EXPECT_EQ(std::count_if(plan.begin(), plan.end(), [](const auto& m) { return m.role == MatrixRole::hardened; }), 9);
  EXPECT_EQ(std::count_if(plan.begin(), plan.end(), [](const auto& m) { return m.role == MatrixRole::replay; }), 1);
  // sig shows as a plain signal: the release scenario moves to debug; no tsan run.
  EXPECT_THAT(injected_ids(plan, "sig"),
              ::testing::ElementsAre("cut/vstore/debug[i=0]+sig", "cut/vstore/debug[i=1]+sig", "cut/vstore/debug[i=2]+sig",
                                     "cut/vstore/debug[i=3]+sig", "cut/vstore/debug[i=4]+sig", "race/vstore/debug[i=0]+sig",
                                     "race/vstore/debug[i=1]+sig"));
  // race shows as a TSan report: the scenario that names tsan runs there too.
  std::vector<std::string> race = injected_ids(plan, "race");
  EXPECT_EQ(race.size(), 9u);
  EXPECT_THAT(race, ::testing::Contains("race/vstore/tsan[i=1]+race"));
  for (const MatrixCell& m : plan)
    if (m.role == MatrixRole::injected) EXPECT_THAT(m.planned.cell.id, HasSubstr("/vstore/" + m.planned.cell.build + "["));
}

TEST(MatrixPlan, ACrashStatesScenarioChecksTheSwitchesItNamesThroughItsCrashStatesToo) {
  std::vector<PlannedCell> catalog = sample_catalog();
  for (int i = 0; i < 2; ++i) {
    PlannedCell p = planned("power-cut", "release", i);
    p.cell.crash_states = CrashStateSpec{};
    p.cell.crash_states->matrix_switches = {"sig"};
    catalog.push_back(p);
  }
  std::vector<MatrixCell> plan = plan_detection_matrix(catalog, kSwitches, {});
  std::vector<std::string> checked;
  for (const MatrixCell& m : plan)
    if (m.role == MatrixRole::crash_states) checked.push_back(m.planned.cell.id);
  EXPECT_THAT(checked, ::testing::ElementsAre("power-cut/vstore/debug[i=0]+sig@crash-states", "power-cut/vstore/debug[i=1]+sig@crash-states"));
  // The plain injected cells stay, for every switch.
  EXPECT_THAT(injected_ids(plan, "sig"), ::testing::Contains("power-cut/vstore/debug[i=1]+sig"));
  EXPECT_THAT(injected_ids(plan, "race"), ::testing::Contains("power-cut/vstore/debug[i=1]+race"));
}

TEST(MatrixPlan, ASwitchIsInjectedOnlyIntoCellsOfTheTargetThatHasIt) {
  std::vector<PlannedCell> catalog = sample_catalog();
  // A scenario for every engine (targets = ["*"]): the same cells for vstore and lmdb.
  for (const char* target : {"vstore", "lmdb"})
    for (int i = 0; i < 2; ++i) catalog.push_back(planned("every-engine", "release", i, "", target));
  std::vector<MatrixCell> plan = plan_detection_matrix(catalog, kSwitches, {});
  std::vector<std::string> sig = injected_ids(plan, "sig");
  EXPECT_THAT(sig, ::testing::Contains("every-engine/vstore/debug[i=1]+sig"));
  for (const std::string& id : injected_ids(plan, "sig")) EXPECT_THAT(id, ::testing::Not(HasSubstr("/lmdb/"))) << id;
  for (const std::string& id : injected_ids(plan, "race")) EXPECT_THAT(id, ::testing::Not(HasSubstr("/lmdb/"))) << id;
}

TEST(MatrixPlan, SampleSpreadsOverTheParamsFirstAndLastIncluded) {
  std::vector<MatrixCell> plan = plan_detection_matrix(sample_catalog(), kSwitches, {.plain_build = "debug", .sample = 2});
  EXPECT_THAT(injected_ids(plan, "sig"), ::testing::ElementsAre("cut/vstore/debug[i=0]+sig", "cut/vstore/debug[i=4]+sig",
                                                                 "race/vstore/debug[i=0]+sig", "race/vstore/debug[i=1]+sig"));
}

TEST(MatrixPlan, ASwitchGoesOnlyIntoTheCellsThatReachItsCodeAndTheSampleIsDrawnFromThose) {
  // sig's code runs only in cut's cells with i >= 2; race's everywhere.
  SwitchReach reaches = [](const PlannedCell& p, const RegressionSwitch& r) {
    return r.id != "sig" || (p.cell.scenario == "cut" && p.cell.id.find("[i=0]") == std::string::npos &&
                             p.cell.id.find("[i=1]") == std::string::npos);
  };
  std::vector<MatrixCell> plan = plan_detection_matrix(sample_catalog(), kSwitches, {.plain_build = "debug", .sample = 2}, reaches);
  EXPECT_THAT(injected_ids(plan, "sig"), ::testing::ElementsAre("cut/vstore/debug[i=2]+sig", "cut/vstore/debug[i=4]+sig"));
  EXPECT_EQ(injected_ids(plan, "race"), injected_ids(plan_detection_matrix(sample_catalog(), kSwitches,
                                                                           {.plain_build = "debug", .sample = 2}), "race"));
  EXPECT_EQ(std::count_if(plan.begin(), plan.end(), [](const auto& m) { return m.role == MatrixRole::hardened; }), 9)
      << "the hardened cells are the catalog's, whatever reaches what";
}

CellResult result(const std::string& id, const std::string& scenario, const std::string& regression, Verdict verdict, Outcome o) {
  CellResult c;
  c.cell.id = id;
  c.cell.scenario = scenario;
  c.cell.regression = regression;
  c.verdict = verdict;
  o.duration_ms = 250;
  c.attempts.push_back({verdict, {}, std::move(o), ""});
  return c;
}

TEST(MatrixJudge, CaughtWrongKindAndEscapedAreToldApart) {
  RunResults r;
  std::vector<MatrixRole> roles;
  auto add = [&](CellResult c, MatrixRole role) {
    r.cells.push_back(std::move(c));
    roles.push_back(role);
  };
  add(result("cut/vstore/release", "cut", "", Verdict::pass, error_outcome("corrupt")), MatrixRole::hardened);
  add(result("cut/vstore/debug+sig", "cut", "sig", Verdict::fail, signal_outcome(SIGBUS, true)), MatrixRole::injected);
  add(result("cut/vstore/debug+race", "cut", "race", Verdict::fail, signal_outcome(SIGSEGV, false)), MatrixRole::injected);
  std::vector<RegressionSwitch> three = kSwitches;
  three.push_back({"quiet", "-", "never shows", "error:wrong-result", "vstore"});
  add(result("cut/vstore/debug+quiet", "cut", "quiet", Verdict::pass, error_outcome("corrupt")), MatrixRole::injected);
  DetectionMatrix m = judge_detection_matrix(r, roles, three, {});
  ASSERT_EQ(m.regressions.size(), 3u);
  EXPECT_EQ(m.regressions[0].status, RegressionStatus::caught);
  EXPECT_EQ(m.regressions[0].caught_by.at(0).detail, "SIGBUS@past-eof");
  EXPECT_EQ(m.regressions[0].caught_by.at(0).ms, 250);
  EXPECT_EQ(m.regressions[1].status, RegressionStatus::wrong_kind);
  EXPECT_EQ(m.regressions[2].status, RegressionStatus::escaped);
  EXPECT_FALSE(m.passed);
  EXPECT_EQ(m.problems.size(), 2u);
  nlohmann::json j = to_json(m);
  EXPECT_EQ(j["schema"], "crashgate.matrix/1");
  EXPECT_EQ(j["regressions"][0]["expected_kinds"][0], "signal:SIGBUS@past-eof");
  EXPECT_EQ(j["regressions"][2]["status"], "escaped");
  std::string md = matrix_markdown(m);
  EXPECT_THAT(md, HasSubstr("| `sig` | 000 | signal:SIGBUS@past-eof | caught | signal SIGBUS@past-eof in 0.25 s"));
  EXPECT_THAT(md, HasSubstr("| cut | signal SIGBUS@past-eof 0.2s | (other: signal SIGSEGV) |  |"));
}

TEST(MatrixJson, WhatTheMatrixWritesReadsBackAsTheSameModel) {
  DetectionMatrix m;
  m.run_id = "20261202-010203-abcd";
  m.passed = false;
  m.problems = {"offset32 escapes"};
  m.hardened_cells = 7;
  m.hardened_failures = {"cut/vstore/release"};
  m.scenarios = {"cut", "replay"};
  m.options = {.plain_build = "debug", .sample = 4};
  m.duration_ms = 12500;
  MatrixRegression caught{.info = kSwitches[0], .status = RegressionStatus::caught, .cells = 3};
  caught.caught_by.push_back({"cut/vstore/debug+sig", "cut", "debug", "signal", "SIGBUS@past-eof", 250});
  caught.other_failures.push_back({"replay/vstore/asan+sig", "replay", "asan", "asan", "SEGV", 1200});
  MatrixRegression escaped{.info = {"offset32", "002", "32-bit offsets", "asan|signal:SIGSEGV", "vstore"}, .status = RegressionStatus::escaped, .cells = 5};
  m.regressions = {caught, escaped};

  Checked<DetectionMatrix> back = detection_matrix_from_json(nlohmann::json::parse(to_json(m).dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->run_id, m.run_id);
  EXPECT_FALSE(back->passed);
  EXPECT_EQ(back->problems, m.problems);
  EXPECT_EQ(back->hardened_cells, 7);
  EXPECT_EQ(back->hardened_failures, m.hardened_failures);
  EXPECT_EQ(back->scenarios, m.scenarios);
  EXPECT_EQ(back->options.sample, 4u);
  EXPECT_EQ(back->duration_ms, 12500);
  ASSERT_EQ(back->regressions.size(), 2u);
  const MatrixRegression& r = back->regressions[0];
  EXPECT_EQ(r.info.id, kSwitches[0].id);
  EXPECT_EQ(r.info.shows_as, kSwitches[0].shows_as);
  EXPECT_EQ(r.info.target, "vstore");
  EXPECT_EQ(r.status, RegressionStatus::caught);
  EXPECT_EQ(r.cells, 3);
  ASSERT_EQ(r.caught_by.size(), 1u);
  EXPECT_EQ(r.caught_by[0].cell, "cut/vstore/debug+sig");
  EXPECT_EQ(r.caught_by[0].detail, "SIGBUS@past-eof");
  EXPECT_EQ(r.caught_by[0].ms, 250);
  EXPECT_EQ(r.other_failures.at(0).build, "asan");
  EXPECT_EQ(back->regressions[1].info.shows_as, "asan|signal:SIGSEGV");
  EXPECT_EQ(back->regressions[1].status, RegressionStatus::escaped);
  EXPECT_EQ(regression_detail(back->regressions[1]), "5 cells ran; none failed");
}

TEST(MatrixJson, AFileThatIsNotTheModelIsRefusedNamingTheField) {
  auto refusal = [](const char* text) {
    Checked<DetectionMatrix> m = detection_matrix_from_json(nlohmann::json::parse(text));
    return m ? std::string("accepted") : m.error();
  };
  EXPECT_THAT(refusal(R"({"schema":"crashgate.matrix/9","verdict":"pass","regressions":[]})"), HasSubstr("schema: \"crashgate.matrix/9\""));
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","regressions":[]})"), "verdict: missing");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"maybe","regressions":[]})"), "verdict: 'maybe' is not pass or fail");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"pass"})"), "regressions: missing");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"pass","regressions":[{"id":"x","status":"lost"}]})"),
            "regressions[0].status: 'lost' is not caught, wrong-kind or escaped");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"pass","regressions":[{"status":"caught"}]})"),
            "regressions[0].id: missing");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"pass","regressions":[{"id":"x","status":"caught","cells":"three"}]})"),
            "regressions[0].cells: has the wrong type");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"pass","regressions":[{"id":"x","status":"caught","caught_by":[{"kind":"signal"}]}]})"),
            "regressions[0].caught_by[0].cell: missing");
  EXPECT_EQ(refusal(R"({"schema":"crashgate.matrix/1","verdict":"pass","hardened":{"cells":-1.5},"regressions":[]})"),
            "hardened.cells: has the wrong type");
}

TEST(MatrixJudge, AHardenedCellNotMetFailsTheMatrixEvenWhenEverySwitchIsCaught) {
  RunResults r;
  r.cells.push_back(result("cut/vstore/release", "cut", "", Verdict::fail, signal_outcome(SIGSEGV, false)));
  r.cells.push_back(result("replay/vstore/debug", "replay", "sig", Verdict::pass, signal_outcome(SIGBUS, true)));
  DetectionMatrix m = judge_detection_matrix(r, {MatrixRole::hardened, MatrixRole::replay}, {kSwitches[0]}, {});
  EXPECT_EQ(m.regressions[0].status, RegressionStatus::caught);
  EXPECT_FALSE(m.passed);
  EXPECT_THAT(m.problems.at(0), HasSubstr("hardened cell cut/vstore/release did not meet its expectation"));
}

TEST(MatrixCommand, CatchesUnvalidatedHeaderAsSigbusPastEofAndReportsAnEscape) {
#if !VSTORE_HAS_REGRESSIONS
  GTEST_SKIP() << "this build has no regression switches compiled in";
#else
  std::string root = testing::fake_build_root();
  std::string out = root + "/reports";
  std::string md = root + "/detection-matrix.md";
  // basic/ holds cells of the test driver, which has no regression switches: left out, and said so.
  Outcome o = testing::run_crashgate({"matrix", testing::run_fixture("matrix"), testing::run_fixture("basic"), "--build",
                                      testing::this_build(), "--build-root", root,
                                      "--out", out, "--plain-build", testing::this_build(), "--regression",
                                      "unvalidated-header,recursive-filter", "-j", "2", "--update", "--update-path", md});
  EXPECT_EQ(o.exit_code, 1) << o.stdout_excerpt.text() << o.stderr_excerpt.text();
  std::string run;
  for (const auto& e : std::filesystem::directory_iterator(out)) run = e.path().string();
  std::ifstream in(run + "/matrix.json");
  ASSERT_TRUE(in) << "no matrix.json in " << run << "\n" << o.stdout_excerpt.text();
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["hardened"]["cells"], 1);
  ASSERT_EQ(j["regressions"].size(), 2u);
  EXPECT_EQ(j["regressions"][0]["id"], "unvalidated-header");
  EXPECT_EQ(j["regressions"][0]["status"], "caught") << j.dump(2);
  EXPECT_EQ(j["regressions"][1]["id"], "recursive-filter");
  EXPECT_EQ(j["regressions"][1]["status"], "escaped");
  std::ifstream written(md);
  std::stringstream text;
  text << written.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("`unvalidated-header`"));
  // Beside the Markdown, the same matrix as JSON: what --changed reads for a scenario edit's switches.
  auto beside = load_detection_matrix(root + "/detection-matrix.json");
  ASSERT_TRUE(beside) << beside.error();
  ASSERT_EQ(beside->regressions.size(), 2u);
  EXPECT_EQ(beside->regressions[0].info.id, "unvalidated-header");
  EXPECT_FALSE(beside->regressions[0].caught_by.empty());
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("recursive-filter escapes"));
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("crashgate matrix: test: its driver has no regression switches; its"));
  for (const auto& r : j["regressions"]) EXPECT_EQ(r["target"], "vstore");
#endif
}

TEST(MatrixCommand, HardenedCellsAnEarlierRunHoldsAreJudgedFromItNotRunAgain) {
#if !VSTORE_HAS_REGRESSIONS
  GTEST_SKIP() << "this build has no regression switches compiled in";
#else
  std::string root = testing::fake_build_root();
  Outcome first = testing::run_crashgate({"run", testing::run_fixture("matrix"), "--build", testing::this_build(), "--build-root", root,
                                          "--out", root + "/earlier"});
  ASSERT_EQ(first.exit_code, 0) << testing::output_of(first);
  Outcome o = testing::run_crashgate({"matrix", testing::run_fixture("matrix"), "--build", testing::this_build(), "--build-root", root,
                                      "--out", root + "/reports", "--plain-build", testing::this_build(), "--regression",
                                      "unvalidated-header", "--hardened-from", root + "/earlier/latest", "-j", "2"});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("(1 hardened, 1 judged from " + root + "/earlier/latest"))
      << "the one hardened cell comes from the earlier run" << testing::output_of(o);
  EXPECT_THAT(o.stderr_excerpt.text(), ::testing::Not(HasSubstr("run here"))) << "nothing is missing from it";
  std::ifstream written(root + "/earlier/latest/matrix.json");
  EXPECT_TRUE(written) << "matrix.json goes beside the run it judged";
#endif
}

TEST(MatrixCommand, UpdateRefusesAChangedMatrixWhichTriesOnlySomeSwitches) {
  Outcome o = testing::run_crashgate({"matrix", testing::run_fixture("matrix"), "--changed", "HEAD", "--update",
                                      "--update-path", testing::scratch_dir("matrix-update-changed") + "/m.md"});
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("a --changed matrix tries only some switches"));
  EXPECT_FALSE(std::filesystem::exists(testing::scratch_dir("matrix-update-changed") + "/m.md"));
}

// A scenario edit on a PR: the switches that scenario caught in the checked-in
// matrix, plus the rotating one, not every switch.
TEST(MatrixCommand, AChangedScenarioTriesTheSwitchesItCaughtInTheCheckedInMatrix) {
#if !VSTORE_HAS_REGRESSIONS
  GTEST_SKIP() << "this build has no regression switches compiled in";
#else
  std::string repo = testing::scratch_dir("matrix-changed-repo");
  auto git = [&](const std::string& args) {
    std::string command = "git -C '" + repo + "' -c user.name=crashgate -c user.email=test@example.com " + args + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  };
  git("init -q -b main");
  std::filesystem::create_directories(repo + "/scenarios/matrix");
  std::filesystem::create_directories(repo + "/reports");
  std::filesystem::copy_file(testing::run_fixture("matrix") + "/cut-count.toml", repo + "/scenarios/matrix/cut-count.toml");
  DetectionMatrix last;
  last.run_id = "R1";
  last.passed = true;
  for (auto [id, scenario] : {std::pair{"unvalidated-header", "cut-count"}, {"recursive-filter", "deep-shapes"},
                              {"stale-size", "deep-shapes"}}) {
    MatrixRegression r;
    r.info.id = id;
    r.info.target = "vstore";
    r.status = RegressionStatus::caught;
    r.caught_by.push_back({std::string(scenario) + "/vstore/debug+" + id, scenario, "debug", "signal", "SIGBUS", 10});
    last.regressions.push_back(r);
  }
  std::ofstream(repo + "/reports/detection-matrix.json") << to_json(last).dump(1);
  git("add -A");
  git("commit -q -m base");
  std::ofstream(repo + "/scenarios/matrix/cut-count.toml", std::ios::app) << "# edited\n";
  std::string root = testing::fake_build_root();
  Outcome o = testing::run_crashgate({"matrix", repo + "/scenarios", "--build", testing::this_build(), "--build-root", root,
                                      "--out", root + "/reports-changed", "--plain-build", testing::this_build(),
                                      "--regression", "unvalidated-header,recursive-filter,stale-size", "--changed", "HEAD",
                                      "-j", "2"});
  EXPECT_NE(o.exit_code, 2) << testing::output_of(o);
  std::string out = o.stdout_excerpt.text();
  EXPECT_THAT(out, HasSubstr("2 of 3 switches")) << testing::output_of(o);
  EXPECT_THAT(out, HasSubstr("scenarios/matrix/cut-count.toml changed, and its scenario cut-count caught it in "
                             "reports/detection-matrix.json (run R1)"));
  EXPECT_THAT(out, HasSubstr("the rotating switch of this commit")) << "one of the two deep-shapes switches";
#endif
}

}  // namespace
}  // namespace crashgate
