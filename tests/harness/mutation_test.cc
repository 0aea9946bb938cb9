// Mutation runs (mutation.h, mutant.h): the seeded sample, applying a mutant
// and its diff, the score, and the documents `crashgate mutate` writes and reads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/mutation.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

Mutant mutant(MutationRule rule, std::string file, std::size_t offset, std::string function = "f") {
  Mutant m;
  m.rule = rule;
  m.file = std::move(file);
  m.function = std::move(function);
  m.offset = offset;
  m.length = 1;
  m.original = "<";
  m.replacement = "<=";
  m.line = 1;
  m.column = static_cast<unsigned>(offset + 1);
  m.id = std::string(to_string(rule)) + "@" + m.file + ":" + m.function + "#" + std::to_string(offset);
  return m;
}

// 30 constants and 2 of every other rule, as a real file's counts lean.
std::vector<Mutant> many() {
  std::vector<Mutant> all;
  for (std::size_t i = 0; i < 30; ++i) all.push_back(mutant(MutationRule::constant_change, "a.cc", i));
  for (const auto& r : mutation_rules())
    if (r.rule != MutationRule::constant_change)
      for (std::size_t i = 0; i < 2; ++i) all.push_back(mutant(r.rule, "b.cc", 100 + 10 * static_cast<std::size_t>(r.rule) + i));
  return all;
}

std::vector<std::string> ids(const std::vector<Mutant>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.id);
  return out;
}

TEST(MutantSample, IsTheSameForTheSameSeedAndTakesEveryRuleInTurn) {
  auto all = many();
  auto a = sample_mutants(all, 9, 7), b = sample_mutants(all, 9, 7);
  EXPECT_EQ(ids(a), ids(b));
  std::set<MutationRule> rules;
  for (const auto& m : a) rules.insert(m.rule);
  EXPECT_EQ(rules.size(), 9u) << "nine mutants, one of each rule, though constants are most of them";
  EXPECT_NE(ids(sample_mutants(all, 20, 8)), ids(sample_mutants(all, 20, 7))) << "another seed, another sample";
  EXPECT_EQ(sample_mutants(all, 1000, 7).size(), all.size()) << "asking for more than there are takes them all";
}

TEST(MutantSample, DoesNotDependOnTheOrderTheMutantsCameIn) {
  auto all = many();
  auto reversed = all;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(ids(sample_mutants(all, 12, 3)), ids(sample_mutants(reversed, 12, 3)));
}

TEST(MutantSample, KeepsToTheRulesAskedFor) {
  auto s = sample_mutants(many(), 10, 1, {MutationRule::remove_guard, MutationRule::logical_flip});
  ASSERT_EQ(s.size(), 4u);
  for (const auto& m : s) EXPECT_TRUE(m.rule == MutationRule::remove_guard || m.rule == MutationRule::logical_flip);
}

TEST(Mutant, AppliesOnlyOverItsOriginalBytesAndItsDiffShowsTheLine) {
  std::string text = "int f(int a, int b) {\n  // compare\n  if (a < b) return 1;\n  return 0;\n}\n";
  Mutant m = mutant(MutationRule::relational_boundary, "src/f.cc", text.find("<"), "f");
  m.line = 3;
  auto applied = apply_mutant(text, m);
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(*applied, "int f(int a, int b) {\n  // compare\n  if (a <= b) return 1;\n  return 0;\n}\n");
  EXPECT_EQ(mutant_diff(text, m, 1),
            "--- a/src/f.cc\n+++ b/src/f.cc\n@@ -2,3 +2,3 @@ f\n   // compare\n-  if (a < b) return 1;\n+  if (a <= b) return 1;\n"
            "   return 0;\n");
  std::string moved = "// a new first line\n" + text;
  auto stale = apply_mutant(moved, m);
  ASSERT_FALSE(stale);
  EXPECT_THAT(stale.error(), HasSubstr("src/f.cc:3:"));
  EXPECT_THAT(stale.error(), HasSubstr("no longer holds '<'"));
}

TEST(Mutant, ARemovedStatementOverSeveralLinesDiffsAsThoseLinesGone) {
  std::string text = "void g() {\n  if (bad)\n    return;\n  work();\n}\n";
  Mutant m;
  m.id = "remove-guard@g.cc:g#0";
  m.file = "g.cc";
  m.function = "g";
  m.rule = MutationRule::remove_guard;
  m.offset = text.find("if");
  m.original = "if (bad)\n    return;";
  m.length = m.original.size();
  m.line = 2;
  m.column = 3;
  EXPECT_EQ(mutant_diff(text, m, 1), "--- a/g.cc\n+++ b/g.cc\n@@ -1,4 +1,3 @@ g\n void g() {\n-  if (bad)\n-    return;\n+  \n   work();\n");
}

TEST(Mutant, DocumentsRoundTripAndABadOneNamesTheField) {
  std::vector<Mutant> ms = {mutant(MutationRule::equality_flip, "x.cc", 4), mutant(MutationRule::remove_call, "y.cc", 9)};
  auto back = parse_mutants_document(mutants_document(ms).dump(), "m.json");
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, ms);
  auto j = mutants_document(ms);
  j["mutants"][1]["rule"] = "flip-everything";
  auto bad = parse_mutants_document(j.dump(), "m.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "m.json: mutants[1].rule: 'flip-everything' is no mutation rule");
  j = mutants_document(ms);
  j["mutants"][0].erase("offset");
  EXPECT_THAT(parse_mutants_document(j.dump(), "m.json").error(), HasSubstr("mutants[0].offset: missing"));
  EXPECT_THAT(parse_mutants_document("{\"schema\": \"other/1\"}", "m.json").error(), HasSubstr("schema is not crashgate.mutants/1"));
}

MutationRun sample_run() {
  MutationRun run;
  run.commit = "0123456789abcdef0123456789abcdef01234567";
  run.seed = 5;
  run.builds = {"release", "asan"};
  run.started_at = "2026-12-03T01:00:00Z";
  run.seconds = 321;
  run.found = 1874;
  run.files = {"x.cc", "y.cc"};
  auto result = [](MutationRule rule, std::size_t at, MutantStatus status) {
    MutantResult r{.mutant = mutant(rule, "x.cc", at), .status = status, .selected = 10, .total = 1595};
    if (status == MutantStatus::killed) r.killed_by = {"cut-then-read/vstore/release[...]: outcome: expected error, got signal"};
    return r;
  };
  run.results = {result(MutationRule::relational_boundary, 1, MutantStatus::killed),
                 result(MutationRule::relational_boundary, 2, MutantStatus::survived),
                 result(MutationRule::remove_guard, 3, MutantStatus::killed),
                 result(MutationRule::constant_change, 4, MutantStatus::equivalent),
                 result(MutationRule::constant_change, 5, MutantStatus::no_build)};
  return run;
}

TEST(MutationScore, CountsKilledOfKilledAndSurvivedOnly) {
  MutationScore s = score_of(sample_run().results);
  EXPECT_EQ(s.killed(), 2u);
  EXPECT_EQ(s.survived(), 1u);
  ASSERT_TRUE(s.score());
  EXPECT_DOUBLE_EQ(*s.score(), 2.0 / 3.0);
  EXPECT_EQ(s.headline(), "2 of 3 killed (66.7%); 1 equivalent, 1 no-build");
  EXPECT_FALSE(score_of({}).score()) << "no mutant killed or survived: no score, not 0%";
}

TEST(MutationRun, RoundTripsThroughMutationJson) {
  MutationRun run = sample_run();
  auto back = parse_mutation_json(mutation_json(run).dump(), "mutation.json");
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(mutation_json(*back), mutation_json(run));
  EXPECT_EQ(mutation_json(run)["counts"]["killed"], 2);
  auto j = mutation_json(run);
  j["mutants"][2]["status"] = "maimed";
  EXPECT_EQ(parse_mutation_json(j.dump(), "mutation.json").error(),
            "mutation.json: mutants[2].status: missing, or no status crashgate knows");
}

TEST(MutationRun, IdsAreReadFromEitherDocumentToTryTheSameMutantsAgain) {
  MutationRun run = sample_run();
  auto from_run = mutant_ids_in(mutation_json(run).dump(), "mutation.json");
  ASSERT_TRUE(from_run) << from_run.error();
  std::vector<Mutant> ms;
  for (const auto& r : run.results) ms.push_back(r.mutant);
  auto from_list = mutant_ids_in(mutants_document(ms).dump(), "mutants.json");
  ASSERT_TRUE(from_list) << from_list.error();
  EXPECT_EQ(*from_run, *from_list);
  EXPECT_EQ(from_run->size(), 5u);
  EXPECT_THAT(mutant_ids_in("[]", "x.json").error(), HasSubstr("schema is neither"));
}

TEST(MutationReport, PutsTheSurvivorsWithTheirDiffsFirst) {
  MutationRun run = sample_run();
  std::string survivor = run.results[1].mutant.id;
  std::string md = mutation_markdown(run, {{survivor, "--- a/x.cc\n+++ b/x.cc\n-<\n+<=\n"}});
  EXPECT_EQ(md.rfind("# crashgate mutate: 2 of 3 killed (66.7%); 1 equivalent, 1 no-build\n", 0), 0u) << md;
  EXPECT_THAT(md, HasSubstr("| relational-boundary | 1 | 1 | 0 |"));
  EXPECT_THAT(md, HasSubstr("| constant-change | 0 | 0 | 2 |"));
  auto survived = md.find("## Survived: bugs the gate let through (1)");
  ASSERT_NE(survived, std::string::npos) << md;
  EXPECT_LT(survived, md.find("## Killed (2)"));
  EXPECT_LT(md.find("```diff\n--- a/x.cc"), md.find("## Killed (2)")) << "the survivor's diff is in its section";
  EXPECT_THAT(md, HasSubstr("- cut-then-read/vstore/release[...]: outcome: expected error, got signal"));
}

TEST(MutationStatus, NamesRoundTripAndOnlyKilledAndSurvivedCount) {
  for (auto s : {MutantStatus::killed, MutantStatus::survived, MutantStatus::equivalent, MutantStatus::no_build,
                 MutantStatus::gone, MutantStatus::error, MutantStatus::stopped, MutantStatus::not_run}) {
    EXPECT_EQ(parse_mutant_status(to_string(s)), s);
    EXPECT_EQ(counted_in_score(s), s == MutantStatus::killed || s == MutantStatus::survived) << to_string(s);
  }
  EXPECT_FALSE(parse_mutant_status("maimed"));
}

// --mutant-time bounds the gate's reruns too: they get what the cells left of
// it, and with less than the floor left the gate judges without reruns.
TEST(MutationGatePlan, ReRunsGetWhatTheCellsLeftOfTheBudgetAndNoneWhenItIsSpent) {
  using std::chrono::milliseconds, std::chrono::minutes, std::chrono::seconds;
  GatePlan early = plan_gate(minutes(30), minutes(4));
  EXPECT_TRUE(early.reruns);
  EXPECT_EQ(early.limit, minutes(26));
  GatePlan at_floor = plan_gate(minutes(30), minutes(30) - kGateFloor);
  EXPECT_TRUE(at_floor.reruns);
  EXPECT_EQ(at_floor.limit, kGateFloor);
  GatePlan under_floor = plan_gate(minutes(30), minutes(30) - kGateFloor + milliseconds(1));
  EXPECT_FALSE(under_floor.reruns);
  EXPECT_EQ(under_floor.limit, kGateFloor) << "judging without reruns still gets its few seconds";
  GatePlan overran = plan_gate(minutes(5), minutes(5) + seconds(31));
  EXPECT_FALSE(overran.reruns) << "a run stopped at --mutant-time leaves no time for reruns";
  EXPECT_EQ(overran.limit, kGateFloor);
}

TEST(MutationOverrun, TheCellsTheStopCutShortAreLeftOutAndTheFinishedOnesKept) {
  auto cell = [](std::string id, Verdict verdict, OutcomeKind kind, std::string detail) {
    CellResult c;
    c.cell.id = std::move(id);
    c.verdict = verdict;
    if (verdict != Verdict::not_run) {
      Attempt a;
      a.outcome.kind = kind;
      a.outcome.detail = std::move(detail);
      c.attempts.push_back(a);
    }
    return c;
  };
  RunResults r;
  r.cells = {cell("passed", Verdict::pass, OutcomeKind::ok, ""),
             cell("caught", Verdict::fail, OutcomeKind::signal, "SIGSEGV"),
             cell("never-started", Verdict::not_run, OutcomeKind::harness_error, ""),
             cell("queued", Verdict::harness_error, OutcomeKind::harness_error, "not run: crashgate was interrupted"),
             cell("running", Verdict::harness_error, OutcomeKind::harness_error,
                  "interrupted: crashgate was asked to stop before the command finished"),
             cell("driver-broke", Verdict::harness_error, OutcomeKind::harness_error, "the driver exited 70")};
  EXPECT_EQ(drop_unfinished_cells(r), 3u);
  std::vector<std::string> kept;
  for (const auto& c : r.cells) kept.push_back(c.cell.id);
  EXPECT_EQ(kept, (std::vector<std::string>{"passed", "caught", "driver-broke"})) << "a harness error of its own is still judged";
}

}  // namespace
}  // namespace crashgate
