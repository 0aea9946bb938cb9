// summary.md (summary_markdown.h): the verdict first, then what is new, then
// fixed, flaky and known; bounded however many cells fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "crashgate/summary_markdown.h"
#include "crashgate/triage.h"
#include "harness/support/gate_results.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using testing::gate_cell;
using testing::gate_run;

TEST(SummaryMarkdown, OpensWithTheVerdictThenListsNewFailuresWithDiagnosisSignatureAndRepro) {
  Baseline base = baseline_from_results(gate_run({gate_cell("ok/vstore/debug", Verdict::pass),
                                                  gate_cell("old/vstore/debug", Verdict::fail, "00000000000000aa"),
                                                  gate_cell("was-bad/vstore/debug", Verdict::fail)}));
  auto run = gate_run({gate_cell("ok/vstore/debug", Verdict::fail, "00000000000000bb"),
                       gate_cell("old/vstore/debug", Verdict::fail, "00000000000000aa"),
                       gate_cell("was-bad/vstore/debug", Verdict::pass),
                       gate_cell("wobbly/vstore/debug", Verdict::flaky)});
  GateDecision d = decide_gate(run, {.baseline = &base});
  std::string md = summary_markdown(run, d, {.title = "crashgate gate", .baseline_path = "reports/baseline.json", .run_dir = "build/reports/x"});
  EXPECT_EQ(md.rfind("## ❌ crashgate gate: FAIL — 1 new failure, 1 flaky cell, 1 known failure, 1 fixed\n", 0), 0u) << md;
  auto at = [&](const std::string& s) { return md.find(s); };
  ASSERT_NE(at("### New failures (1)"), std::string::npos) << md;
  EXPECT_LT(at("### New failures"), at("### New crash signatures"));
  EXPECT_LT(at("### New crash signatures"), at("### Fixed"));
  EXPECT_LT(at("### Fixed"), at("### Flaky"));
  EXPECT_LT(at("### Flaky"), at("### Known"));
  EXPECT_THAT(md, HasSubstr("- `ok/vstore/debug` — scenario `ok`"));
  EXPECT_THAT(md, HasSubstr("why it blocks: new crash signature"));
  EXPECT_THAT(md, HasSubstr("expected error corrupt, got signal SIGBUS: SIGBUS (BUS\\_ADRERR): read at offset 12,288"));
  EXPECT_THAT(md, HasSubstr("**new** signature `00000000000000bb`: signal SIGBUS in `vstore::VectorFile::slot` ← "
                            "`vstore::Store::count`"));
  EXPECT_THAT(md, HasSubstr("repro: `crashgate repro 'ok/vstore/debug' --run /r`"));
  EXPECT_THAT(md, HasSubstr("in 1 cell of scenario `ok` (1)"));
  EXPECT_THAT(md, HasSubstr("`was-bad/vstore/debug` passes now"));
  EXPECT_THAT(md, HasSubstr("`old/vstore/debug` — fail in the baseline too"));
  EXPECT_THAT(md, HasSubstr("Compared with the baseline `reports/baseline.json`"));
  EXPECT_THAT(md, HasSubstr("build/reports/x/report.html, build/reports/x/results.json"));
}

TEST(SummaryMarkdown, ARunOfSeveralEnginesSaysEachOnesKnownAndNewFailures) {
  KnownIssues known = *KnownIssues::parse("[[issue]]\nid = \"L-1\"\ntitle = \"t\"\nengine = \"lmdb\"\nsignatures = [\"00000000000000aa\"]\n", "k.toml");
  std::vector<CellResult> cells = {gate_cell("a/lmdb/release[x=1]", Verdict::fail, "00000000000000aa"),
                                   gate_cell("a/lmdb/release[x=2]", Verdict::fail, "00000000000000aa"),
                                   gate_cell("b/lmdb/release", Verdict::fail, "00000000000000cc"),
                                   gate_cell("c/vstore/release", Verdict::pass)};
  for (int i = 0; i < 3; ++i) {
    cells[i].cell.target = "lmdb";
    cells[i].attempts.back().outcome.engine = EngineId{"lmdb", "0.9.24"};
  }
  cells[3].cell.target = "vstore";
  auto run = gate_run(cells);
  std::string md = summary_markdown(run, decide_gate(run, {.known_issues = &known}), {});
  EXPECT_THAT(md, HasSubstr("Engines: `lmdb` 0.9.24: 3 cells, 2 known (1 distinct crash), **1 new** · `vstore`: 1 cells, 0 known (0 distinct crashes), 0 new."))
      << md;
  auto one = gate_run({cells[3]});
  EXPECT_THAT(summary_markdown(one, decide_gate(one, {}), {}), ::testing::Not(HasSubstr("Engines:")))
      << "one engine: the counts above say it all";
}

TEST(SummaryMarkdown, APassingGateSaysSoFirst) {
  auto run = gate_run({gate_cell("ok/vstore/debug", Verdict::pass)});
  std::string md = summary_markdown(run, decide_gate(run, {}), {.title = "crashgate run"});
  EXPECT_EQ(md.rfind("## ✅ crashgate run: pass — no new failures\n", 0), 0u) << md;
  EXPECT_THAT(md, HasSubstr("No baseline: every failure is new."));
  EXPECT_THAT(md, ::testing::Not(HasSubstr("###")));
}

TEST(SummaryMarkdown, StaysUnderTheBoundWithFiveThousandFailingCellsAndSaysHowManyMore) {
  std::vector<CellResult> cells;
  for (int i = 0; i < 5000; ++i)
    cells.push_back(gate_cell(fmt::format("scenario-{}/vstore/asan[cut=slot({})+5,mode=very-long-parameter-value]", i % 40, i),
                              i % 3 == 0 ? Verdict::flaky : Verdict::fail,
                              // a flaky cell with a crash nobody has seen would be new: those here did not crash
                              i % 2 && i % 3 ? fmt::format("{:016x}", i) : ""));
  auto run = gate_run(std::move(cells));
  GateDecision d = decide_gate(run, {});
  ASSERT_EQ(d.new_failures.size() + d.flaky.size(), 5000u);
  std::string md = summary_markdown(run, d, {.title = "crashgate gate", .run_dir = "build/reports/latest"});
  EXPECT_LT(md.size(), 60'000u);
  EXPECT_GT(md.size(), 50'000u) << "the space is used for as many cells as fit";
  EXPECT_EQ(md.rfind("## ❌ crashgate gate: FAIL — 3333 new failures, 1667 flaky cells\n", 0), 0u) << md.substr(0, 200);
  EXPECT_THAT(md, ::testing::ContainsRegex("- \\.\\.\\. and [0-9]+ more \\(see build/reports/latest/report\\.html, "
                                           "build/reports/latest/results\\.json\\)"));
  for (const char* section : {"### New failures (3333)", "### New crash signatures (", "### Flaky (not blocking) (1667)"})
    EXPECT_THAT(md, HasSubstr(section)) << "every section keeps its place";
  EXPECT_THAT(md, HasSubstr("\n---\nFull details:")) << "the footer survives";
}

TEST(SummaryMarkdown, AnySmallerBoundIsHonouredToo) {
  std::vector<CellResult> cells;
  for (int i = 0; i < 300; ++i) cells.push_back(gate_cell(fmt::format("s/vstore/debug[i={}]", i), Verdict::fail, fmt::format("{:016x}", i)));
  auto run = gate_run(std::move(cells));
  GateDecision d = decide_gate(run, {});
  for (std::size_t bound : {8'000u, 20'000u, 40'000u}) {
    std::string md = summary_markdown(run, d, {.max_bytes = bound});
    EXPECT_LT(md.size(), bound);
    EXPECT_THAT(md, HasSubstr("more (see report.html, results.json)"));
  }
}

TEST(SummaryMarkdown, TextFromTheRunCannotBreakTheMarkdown) {
  auto cell = gate_cell("x/vstore/debug", Verdict::fail, "00000000000000aa");
  cell.attempts[0].outcome.detail = "a <script> | `tick` *bold*\nsecond line";
  auto run = gate_run({cell});
  std::string md = summary_markdown(run, decide_gate(run, {}), {});
  EXPECT_THAT(md, HasSubstr("a \\<script\\> \\| \\`tick\\` \\*bold\\* second line"));
  EXPECT_THAT(md, ::testing::Not(HasSubstr("<script>")));
}

}  // namespace
}  // namespace crashgate
