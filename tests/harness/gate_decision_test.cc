// The gate's decisions (gate_decision.h): what is new and blocks, what is
// known, flaky, fixed or escaped, against a baseline and the known issues.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/gate_decision.h"
#include "harness/support/gate_results.h"

namespace crashgate {
namespace {

using testing::gate_cell;
using testing::gate_run;

// The ids of the cells a class holds, in run order.
std::vector<std::string> ids(const RunResults& r, const std::vector<GateCell>& cells) {
  std::vector<std::string> out;
  for (const auto& g : cells) out.push_back(r.cells[g.index].cell.id);
  return out;
}

Baseline baseline_of(std::vector<CellResult> cells) { return baseline_from_results(gate_run(std::move(cells))); }

TEST(GateDecision, WithoutABaselineEveryFailureIsNewAndBlocks) {
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::pass), gate_cell("b/vstore/debug", Verdict::fail),
                       gate_cell("c/vstore/debug", Verdict::fail, "00000000000000cc")});
  GateDecision d = decide_gate(run, {});
  EXPECT_TRUE(d.blocks());
  EXPECT_THAT(ids(run, d.new_failures), ::testing::ElementsAre("b/vstore/debug", "c/vstore/debug"));
  EXPECT_EQ(d.new_failures[0].why, "no baseline");
  ASSERT_EQ(d.new_signatures.size(), 1u);
  EXPECT_EQ(d.new_signatures[0].signature, "00000000000000cc");
  EXPECT_EQ(d.passed, 1u);
  EXPECT_EQ(d.headline(), "2 new failures");
}

TEST(GateDecision, ACellThatPassedInTheBaselineAndFailsNowIsNew) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::fail)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  ASSERT_EQ(d.new_failures.size(), 1u);
  EXPECT_EQ(d.new_failures[0].why, "passed in the baseline");
  EXPECT_FALSE(d.new_failures[0].new_signature);
  EXPECT_TRUE(d.blocks());
}

TEST(GateDecision, AFailureTheBaselineAlreadyHadIsKnownAndDoesNotBlock) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa")});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.baseline = &base});
  EXPECT_TRUE(d.new_failures.empty());
  ASSERT_EQ(d.known.size(), 1u);
  EXPECT_EQ(d.known[0].why, "fail in the baseline too");
  EXPECT_FALSE(d.blocks());
  EXPECT_EQ(d.headline(), "no new failures, 1 known failure");
}

TEST(GateDecision, AKnownFailingCellWithADifferentCrashSignatureIsNew) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa")});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000bb")});
  GateDecision d = decide_gate(run, {.baseline = &base});
  ASSERT_EQ(d.new_failures.size(), 1u);
  EXPECT_TRUE(d.new_failures[0].new_signature);
  EXPECT_EQ(d.new_failures[0].why, "new crash signature");
  ASSERT_EQ(d.new_signatures.size(), 1u);
  EXPECT_EQ(d.new_signatures[0].signature, "00000000000000bb");
  EXPECT_TRUE(d.blocks());
}

TEST(GateDecision, ACrashMatchingAKnownIssueIsKnownEvenWhereTheBaselinePassed) {
  auto known = KnownIssues::parse("[[issue]]\nid = \"VS-12\"\ntitle = \"count() SIGBUS\"\nsignatures = [\"00000000000000aa\"]\n",
                                  "known.toml");
  ASSERT_TRUE(known) << known.error();
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.baseline = &base, .known_issues = &*known});
  EXPECT_TRUE(d.new_failures.empty());
  ASSERT_EQ(d.known.size(), 1u);
  EXPECT_EQ(d.known[0].why, "known issue VS-12: count() SIGBUS");
  EXPECT_TRUE(d.new_signatures.empty());
  EXPECT_FALSE(d.blocks());
}

TEST(GateDecision, ACrashStateGlobOfAKnownIssueAlsoMatches) {
  auto known = KnownIssues::parse("[[issue]]\nid = \"VS-13\"\ntitle = \"t\"\nstates = [\"signal SIGBUS\\nvstore::VectorFile::slot*\"]\n",
                                  "known.toml");
  ASSERT_TRUE(known) << known.error();
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.known_issues = &*known});
  ASSERT_EQ(d.known.size(), 1u);
  EXPECT_FALSE(d.blocks());
}

TEST(GateDecision, AKnownCrashPassingOnRerunIsFlakyAndBlocksOnlyWhenStrict) {
  // The baseline knows the crash (another cell had it); this cell passed there.
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass),
                               gate_cell("b/vstore/debug", Verdict::fail, "00000000000000aa")});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::flaky, "00000000000000aa"),
                       gate_cell("b/vstore/debug", Verdict::fail, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.baseline = &base});
  ASSERT_EQ(d.flaky.size(), 1u);
  EXPECT_EQ(d.flaky[0].why, "failed, then passed rerun 1");
  EXPECT_EQ(d.flaky[0].signature, "00000000000000aa");
  EXPECT_TRUE(d.new_failures.empty());
  EXPECT_TRUE(d.new_signatures.empty());
  EXPECT_FALSE(d.blocks());
  GateDecision strict = decide_gate(run, {.baseline = &base, .strict = true});
  EXPECT_TRUE(strict.blocks());
  EXPECT_EQ(strict.headline(), "no new failures, 1 flaky cell (--strict), 1 known failure");
}

TEST(GateDecision, AFailureThatIsNotACrashPassingOnRerunIsFlaky) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::flaky)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  ASSERT_EQ(d.flaky.size(), 1u);
  EXPECT_EQ(d.flaky[0].signature, "");
  EXPECT_FALSE(d.blocks());
  // A clean error has a signature too ("error io in failpoints"); a new one is still no crash.
  auto errored = gate_run({gate_cell("a/vstore/debug", Verdict::flaky, "00000000000000ee")});
  errored.cells[0].attempts[0].outcome.kind = OutcomeKind::error;
  GateDecision e = decide_gate(errored, {.baseline = &base});
  ASSERT_EQ(e.flaky.size(), 1u);
  EXPECT_FALSE(e.blocks());
  for (OutcomeKind crash : {OutcomeKind::tsan, OutcomeKind::asan, OutcomeKind::stack_overflow}) {
    errored.cells[0].attempts[0].outcome.kind = crash;
    EXPECT_TRUE(decide_gate(errored, {.baseline = &base}).blocks()) << to_string(crash) << " is a crash";
  }
}

TEST(GateDecision, ACrashNeverSeenBeforeBlocksEvenWhenARerunPassed) {
  // A race shows itself once in N runs: a use-after-free in a destructor that
  // one rerun did not hit again is still a crash nobody has seen.
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::flaky, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.baseline = &base});
  EXPECT_TRUE(d.flaky.empty());
  ASSERT_EQ(d.new_failures.size(), 1u);
  EXPECT_TRUE(d.new_failures[0].new_signature);
  EXPECT_EQ(d.new_failures[0].why, "new crash signature (passed rerun 1, but a crash never seen before is not flaky)");
  ASSERT_EQ(d.new_signatures.size(), 1u);
  EXPECT_EQ(d.new_signatures[0].signature, "00000000000000aa");
  EXPECT_TRUE(d.blocks());
  EXPECT_EQ(d.headline(), "1 new failure");
  // Without a baseline too.
  EXPECT_TRUE(decide_gate(run, {}).blocks());
}

TEST(GateDecision, AFlakyCrashAKnownIssueNamesIsFlaky) {
  auto known = KnownIssues::parse("[[issue]]\nid = \"VS-12\"\ntitle = \"count() SIGBUS\"\nsignatures = [\"00000000000000aa\"]\n",
                                  "known.toml");
  ASSERT_TRUE(known) << known.error();
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::flaky, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.baseline = &base, .known_issues = &*known});
  ASSERT_EQ(d.flaky.size(), 1u);
  EXPECT_FALSE(d.blocks());
}

TEST(GateDecision, ABaselineSignatureIsNotFixedWhileAFlakyCellStillCrashesWithIt) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa")});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::flaky, "00000000000000aa")});
  GateDecision d = decide_gate(run, {.baseline = &base});
  EXPECT_TRUE(d.fixed_signatures.empty());
}

TEST(GateDecision, ACellFailingInTheBaselineThatPassesNowIsFixedAndItsSignatureGone) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa"),
                               gate_cell("b/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::pass), gate_cell("b/vstore/debug", Verdict::pass)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  EXPECT_THAT(ids(run, d.fixed), ::testing::ElementsAre("a/vstore/debug"));
  ASSERT_EQ(d.fixed_signatures.size(), 1u);
  EXPECT_EQ(d.fixed_signatures[0].signature, "00000000000000aa");
  EXPECT_FALSE(d.blocks());
}

TEST(GateDecision, ASignatureIsNotCalledFixedWhenItsCellsDidNotRun) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::fail, "00000000000000aa"),
                               gate_cell("b/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("b/vstore/debug", Verdict::pass)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  EXPECT_TRUE(d.fixed_signatures.empty());
  EXPECT_EQ(d.baseline_cells_missing, 1u);
}

TEST(GateDecision, ARegressionTheMatrixDidNotCatchEscapesAndBlocks) {
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::pass)});
  GateOptions options;
  auto line = [](const char* id, RegressionStatus status) { return MatrixRegression{.info = {.id = id}, .status = status}; };
  options.regressions = {line("stale-size", RegressionStatus::caught), line("offset32", RegressionStatus::escaped),
                         line("unlocked-grow", RegressionStatus::wrong_kind)};
  GateDecision d = decide_gate(run, options);
  ASSERT_EQ(d.escaped.size(), 2u);
  EXPECT_EQ(d.escaped[0].info.id, "offset32");
  EXPECT_EQ(d.escaped[1].info.id, "unlocked-grow");
  EXPECT_TRUE(d.blocks());
  EXPECT_EQ(d.headline(), "2 escaped regressions");
}

TEST(GateDecision, ACellCrashgateCouldNotRunCountsAsAFailure) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::harness_error)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  ASSERT_EQ(d.new_failures.size(), 1u);
  EXPECT_TRUE(d.blocks());
}

TEST(GateDecision, ANewCellThatFailsIsNewAndOneThatPassesIsJustAPass) {
  Baseline base = baseline_of({gate_cell("a/vstore/debug", Verdict::pass)});
  auto run = gate_run({gate_cell("a/vstore/debug", Verdict::pass), gate_cell("n/vstore/debug", Verdict::fail),
                       gate_cell("p/vstore/debug", Verdict::pass)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  ASSERT_EQ(d.new_failures.size(), 1u);
  EXPECT_EQ(d.new_failures[0].why, "not in the baseline");
  EXPECT_EQ(d.passed, 2u);
}

}  // namespace
}  // namespace crashgate
