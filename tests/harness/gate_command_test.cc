// `crashgate gate` and `crashgate baseline update` end to end: a real run of
// the fixtures (a crash nobody expected, a steady pass, a cell that fails
// once, one that always fails) gated against baselines written for each case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;


std::string id(const std::string& scenario) { return scenario + "/test/" + testing::this_build(); }

// One run shared by the tests: they only read it (each gate writes summary.md and its reruns' directories).
class GateCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(testing::fake_build_root());
    out_ = new std::string(testing::scratch_dir("gate-run"));
    Outcome o = testing::run_crashgate({"run", testing::source_dir() + "/tests/harness/data/gate",
                                        testing::run_fixture("flaky"), testing::run_fixture("failing"), "--build",
                                        testing::this_build(), "--build-root", *root_, "--out", *out_});
    ASSERT_EQ(o.exit_code, 1) << testing::output_of(o);
    auto results = testing::latest_results(*out_);
    signature_ = new std::string(testing::results_cell(results, id("unexpected-sigbus"))["outcome"]["signature"]);
    ASSERT_EQ(signature_->size(), 16u);
  }
  static void TearDownTestSuite() {
    delete root_;
    delete out_;
    delete signature_;
  }

  std::string run_dir() const { return fs::canonical(*out_ + "/latest").string(); }

  // A baseline file with these cells (id -> verdict, signature).
  std::string baseline(const std::vector<std::tuple<std::string, std::string, std::string>>& cells,
                       const std::vector<std::string>& signatures = {}) {
    nlohmann::json j = {{"schema", "crashgate.baseline/1"}, {"cells", nlohmann::json::array()}, {"signatures", nlohmann::json::array()}};
    for (const auto& [cell, verdict, signature] : cells) {
      nlohmann::json c = {{"id", cell}, {"verdict", verdict}};
      if (!signature.empty()) c["signature"] = signature;
      j["cells"].push_back(c);
    }
    for (const auto& s : signatures) j["signatures"].push_back({{"signature", s}, {"crash_state", "x"}, {"cells", nlohmann::json::array()}});
    std::string path = testing::scratch_dir("baseline") + "/baseline.json";
    std::ofstream(path) << j.dump(2);
    return path;
  }

  Outcome gate(std::vector<std::string> args) {
    args.insert(args.begin(), {"gate", run_dir()});
    args.insert(args.end(), {"--known-issues", empty_known_issues()});
    return testing::run_crashgate(args);
  }

  std::string empty_known_issues() {
    std::string path = testing::scratch_dir("known") + "/known-issues.toml";
    std::ofstream(path) << "# nothing known\n";
    return path;
  }

  static std::string* root_;
  static std::string* out_;
  static std::string* signature_;
};

std::string* GateCommand::root_ = nullptr;
std::string* GateCommand::out_ = nullptr;
std::string* GateCommand::signature_ = nullptr;

TEST_F(GateCommand, ClassifiesNewFixedFlakyAndKnownAndBlocksOnTheNewOne) {
  std::string base = baseline({{id("unexpected-sigbus"), "pass", ""},
                               {id("steady"), "fail", ""},
                               {id("fails-once"), "pass", ""},
                               {id("wrong-expectation"), "fail", ""}});
  Outcome o = gate({"--baseline", base});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  std::string out = o.stdout_excerpt.text();
  EXPECT_THAT(out, HasSubstr("rerunning 2 new failures up to 2 times"));
  EXPECT_THAT(out, HasSubstr("rerun 1: " + id("fails-once") + " passed (flaky)"));
  EXPECT_THAT(out, HasSubstr("rerun 2: " + id("unexpected-sigbus") + " fail"));
  std::string md = testing::read_file(run_dir() + "/summary.md");
  EXPECT_EQ(md.rfind("## ❌ crashgate gate: FAIL — 1 new failure, 1 flaky cell, 1 known failure, 1 fixed", 0), 0u) << md;
  EXPECT_THAT(out, HasSubstr(md)) << "the gate prints what it writes";
  EXPECT_THAT(md, HasSubstr("### New failures (1)\n\n- `" + id("unexpected-sigbus") + "` — scenario `unexpected-sigbus`"));
  EXPECT_THAT(md, HasSubstr("**new** signature `" + *signature_ + "`: signal SIGBUS in "));
  EXPECT_THAT(md, HasSubstr("### Fixed (good news) (1)\n\n- `" + id("steady") + "` passes now"));
  EXPECT_THAT(md, HasSubstr("### Flaky (not blocking) (1)\n\n- `" + id("fails-once") + "`"));
  EXPECT_THAT(md, HasSubstr("### Known (1)\n\n- `" + id("wrong-expectation") + "` — fail in the baseline too"));
  EXPECT_TRUE(fs::exists(run_dir() + "/cells/1/gate-rerun-1/cell.json")) << "reruns run in fresh directories of the run";
}

TEST_F(GateCommand, StrictMakesTheFlakyCellBlock) {
  std::string base = baseline({{id("unexpected-sigbus"), "fail", *signature_},
                               {id("steady"), "pass", ""},
                               {id("fails-once"), "pass", ""},
                               {id("wrong-expectation"), "fail", ""}},
                              {*signature_});
  Outcome lenient = gate({"--baseline", base});
  EXPECT_EQ(lenient.exit_code, 0) << testing::output_of(lenient);
  EXPECT_THAT(lenient.stdout_excerpt.text(), HasSubstr("## ✅ crashgate gate: pass — no new failures, 1 flaky cell, 2 known failures"));
  Outcome strict = gate({"--baseline", base, "--strict"});
  EXPECT_EQ(strict.exit_code, 1) << testing::output_of(strict);
  EXPECT_THAT(strict.stdout_excerpt.text(), HasSubstr("### Flaky (blocking: --strict) (1)"));
}

TEST_F(GateCommand, AKnownIssueHoldingTheSignatureKeepsTheCrashFromBlocking) {
  std::string base = baseline({{id("unexpected-sigbus"), "pass", ""}, {id("wrong-expectation"), "fail", ""}});
  std::string known = testing::scratch_dir("known-sigbus") + "/known.toml";
  std::ofstream(known) << "[[issue]]\nid = \"VS-7\"\ntitle = \"reads past a cut file\"\nsignatures = [\"" << *signature_ << "\"]\n";
  Outcome o = testing::run_crashgate({"gate", run_dir(), "--baseline", base, "--known-issues", known});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("`" + id("unexpected-sigbus") + "` — known issue VS-7: reads past a cut file"));
  EXPECT_THAT(o.stdout_excerpt.text(), Not(HasSubstr("rerun 1: " + id("unexpected-sigbus")))) << "known failures are not rerun";
}

TEST_F(GateCommand, AnEscapedRegressionInTheRunsMatrixBlocks) {
  std::string base = baseline({{id("unexpected-sigbus"), "fail", *signature_}, {id("wrong-expectation"), "fail", ""}}, {*signature_});
  std::string matrix = testing::scratch_dir("matrix") + "/matrix.json";
  std::ofstream(matrix) << R"({"schema":"crashgate.matrix/1","verdict":"fail","regressions":[)"
                        << R"({"id":"stale-size","status":"caught"},{"id":"offset32","status":"escaped","cells":0}]})";
  Outcome o = gate({"--baseline", base, "--matrix", matrix});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("### Escaped regressions (1)\n\n- `offset32`: escaped — 0 cells ran; none failed"));
  std::ofstream(matrix) << R"({"schema":"crashgate.matrix/1","verdict":"pass","regressions":[{"id":"stale-size","status":"caught"}]})";
  EXPECT_EQ(gate({"--baseline", base, "--matrix", matrix}).exit_code, 0);
  // Without --matrix the gate reads the run directory's matrix.json, where `crashgate matrix` writes it.
  std::string in_run = run_dir() + "/matrix.json";
  std::ofstream(in_run) << R"({"schema":"crashgate.matrix/1","verdict":"fail","regressions":[{"id":"offset32","status":"wrong-kind"}]})";
  Outcome from_run = gate({"--baseline", base});
  fs::remove(in_run);
  EXPECT_EQ(from_run.exit_code, 1) << testing::output_of(from_run);
  EXPECT_THAT(from_run.stdout_excerpt.text(), HasSubstr("- `offset32`: wrong-kind"));
  std::ofstream(matrix) << R"({"schema":"crashgate.matrix/9","regressions":[]})";
  Outcome bad = gate({"--baseline", base, "--matrix", matrix});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_excerpt.text(), HasSubstr("matrix.json: schema: \"crashgate.matrix/9\" (this crashgate reads crashgate.matrix/1)"));
}

TEST_F(GateCommand, WithoutABaselineEveryFailureIsNewAndAMissingOneIsAnError) {
  Outcome none = gate({"--baseline", "none", "--rerun-failures", "0"});
  EXPECT_EQ(none.exit_code, 1) << testing::output_of(none);
  EXPECT_THAT(none.stdout_excerpt.text(), HasSubstr("No baseline: every failure is new."));
  EXPECT_THAT(none.stdout_excerpt.text(), HasSubstr("### New failures (3)"));
  Outcome missing = gate({"--baseline", "/nonexistent/baseline.json"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr("/nonexistent/baseline.json: cannot read the baseline"));
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr("--baseline none"));
}

TEST_F(GateCommand, BaselineUpdateFromTheRunThenGatesItClean) {
  std::string path = testing::scratch_dir("update") + "/reports/baseline.json";
  Outcome update = testing::run_crashgate({"baseline", "update", run_dir(), "--out", path});
  ASSERT_EQ(update.exit_code, 0) << testing::output_of(update);
  EXPECT_THAT(update.stdout_excerpt.text(), HasSubstr("4 cells from run"));
  std::string first = testing::read_file(path);
  EXPECT_THAT(first, HasSubstr("\"signature\": \"" + *signature_ + "\""));
  ASSERT_EQ(testing::run_crashgate({"baseline", "update", run_dir() + "/results.json", "--out", path}).exit_code, 0);
  EXPECT_EQ(testing::read_file(path), first) << "the same run makes the same file";
  Outcome o = gate({"--baseline", path, "--rerun-failures", "0"});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o) << "\nthe run's own failures are all in its baseline";
  Outcome bad = testing::run_crashgate({"baseline", "update", "/nonexistent", "--out", path});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_excerpt.text(), HasSubstr("/nonexistent: cannot read it"));
}

TEST_F(GateCommand, RunWritesASummaryWhereEveryFailureIsNew) {
  // The shared run's summary.md is rewritten by the gates above; a fresh run shows run's own.
  std::string out = testing::scratch_dir("run-summary");
  Outcome o = testing::crashgate_run({"failing"}, *root_, out, {"--build", testing::this_build()});
  ASSERT_EQ(o.exit_code, 1) << testing::output_of(o);
  std::string own = testing::read_file(out + "/latest/summary.md");
  EXPECT_EQ(own.rfind("## ❌ crashgate run: FAIL — 1 new failure\n", 0), 0u) << own;
  EXPECT_THAT(own, HasSubstr("No baseline: every failure is new."));
  EXPECT_THAT(own, HasSubstr("expected error corrupt, got ok"));
}

}  // namespace
}  // namespace crashgate
