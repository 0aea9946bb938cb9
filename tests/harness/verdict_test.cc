// Judging outcomes against expectations, and the glob that selects cells.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "crashgate/cell_selection.h"
#include "crashgate/verdict.h"

namespace crashgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Outcome error_outcome(const std::string& code, int step = 2) {
  Outcome o;
  o.kind = OutcomeKind::error;
  o.detail = "step 2 (count) failed: " + code + ": vectors.bin is 100 bytes";
  o.steps = {{0, "create", StepStatus::ok, "", "", 1, {}}, {step, "count", StepStatus::error, code, "vectors.bin is 100 bytes", 1, {}}};
  o.failed_step = step;
  return o;
}

Outcome signal_outcome(int signo) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.signal = signo;
  o.detail = "SIGBUS (BUS_ADRERR): read past the end of the file";
  return o;
}

TEST(Judge, AnOutcomeMeetingEveryStatedExpectationPasses) {
  Expectation e{.outcome = {OutcomeKind::error}, .code = "corrupt", .step = 2, .message = "100 bytes"};
  Judgement j = judge(e, error_outcome("corrupt"));
  EXPECT_EQ(j.verdict, Verdict::pass);
  EXPECT_TRUE(j.unmet.empty());
}

TEST(Judge, EachMissedExpectationIsALineOfUnmet) {
  Expectation e{.outcome = {OutcomeKind::error}, .code = "corrupt", .step = 1, .message = "checksum"};
  Judgement j = judge(e, error_outcome("io"));
  EXPECT_EQ(j.verdict, Verdict::fail);
  EXPECT_THAT(j.unmet, ElementsAre("code: expected corrupt, got io", "step: expected step 1 to fail, got step 2",
                                   HasSubstr("message: expected the detail to contain 'checksum'")));
}

TEST(Judge, KindAndSignalAreCompared) {
  Expectation e{.outcome = {OutcomeKind::signal}, .signal = "SIGBUS"};
  EXPECT_EQ(judge(e, signal_outcome(SIGBUS)).verdict, Verdict::pass);
  EXPECT_THAT(judge(e, signal_outcome(SIGSEGV)).unmet, ElementsAre("signal: expected SIGBUS, got SIGSEGV"));
  EXPECT_THAT(judge(e, error_outcome("corrupt")).unmet,
              ElementsAre(HasSubstr("outcome: expected signal, got error"), "signal: expected SIGBUS, got none"));
  Expectation short_name{.outcome = {OutcomeKind::signal}, .signal = "BUS"};
  EXPECT_EQ(judge(short_name, signal_outcome(SIGBUS)).verdict, Verdict::pass);
}

TEST(Judge, ACheckMatchesWithOrWithoutItsAccess) {
  Outcome o;
  o.kind = OutcomeKind::asan;
  o.check = "heap-buffer-overflow READ 4";
  EXPECT_EQ(judge({.outcome = {OutcomeKind::asan}, .check = "heap-buffer-overflow"}, o).verdict, Verdict::pass);
  EXPECT_EQ(judge({.outcome = {OutcomeKind::asan}, .check = "heap-buffer-overflow READ 4"}, o).verdict, Verdict::pass);
  EXPECT_EQ(judge({.outcome = {OutcomeKind::asan}, .check = "heap-buffer"}, o).verdict, Verdict::fail);
}

TEST(Judge, CrashgatesOwnFailureIsAHarnessErrorNotAFailure) {
  Outcome o;
  o.kind = OutcomeKind::harness_error;
  o.detail = "no driver";
  Judgement j = judge({.outcome = {OutcomeKind::ok}}, o);
  EXPECT_EQ(j.verdict, Verdict::harness_error);
  EXPECT_THAT(j.unmet, ElementsAre("crashgate could not run the cell: no driver"));
  EXPECT_EQ(judge({.outcome = {OutcomeKind::harness_error}}, o).verdict, Verdict::pass);
}

TEST(Verdicts, NamesRoundTripAndOnlyPassAndFlakyAreMet) {
  for (const auto& info : verdicts()) {
    EXPECT_EQ(parse_verdict(info.name), info.verdict);
    EXPECT_EQ(met(info.verdict), info.verdict == Verdict::pass || info.verdict == Verdict::flaky) << info.name;
  }
  EXPECT_EQ(parse_verdict("passed"), std::nullopt);
}

TEST(ExpectationText, SaysWhatWasExpectedAndWhatCame) {
  EXPECT_EQ(expectation_text({.outcome = {OutcomeKind::signal}, .signal = "SIGBUS", .step = 2}), "signal SIGBUS at step 2");
  EXPECT_EQ(expectation_text({.outcome = {OutcomeKind::error}, .code = "corrupt", .message = "x"}), "error corrupt, message containing 'x'");
  EXPECT_EQ(outcome_text(error_outcome("corrupt")), "error corrupt at step 2");
}

TEST(CellGlob, StarAndQuestionMarkMatchAnythingBracketsAreLiteral) {
  EXPECT_TRUE(cell_glob_match("*", "a/vstore/release[cut=0]"));
  EXPECT_TRUE(cell_glob_match("a/*", "a/vstore/release[cut=0]"));
  EXPECT_TRUE(cell_glob_match("*[cut=0]", "a/vstore/release[cut=0]"));
  EXPECT_FALSE(cell_glob_match("*[cut=0]", "a/vstore/release[cut=1]"));
  EXPECT_TRUE(cell_glob_match("a/vstore/?san*", "a/vstore/asan[cut=1]"));
  EXPECT_FALSE(cell_glob_match("a/vstore/?san", "a/vstore/asan[cut=1]"));
  EXPECT_TRUE(cell_glob_match("*release*", "a/vstore/release"));
  EXPECT_FALSE(cell_glob_match("b*", "a/vstore/release"));
  EXPECT_TRUE(cell_glob_match("**a**", "xax"));
  EXPECT_TRUE(cell_glob_match("", ""));
  EXPECT_FALSE(cell_glob_match("", "a"));
}

}  // namespace
}  // namespace crashgate
