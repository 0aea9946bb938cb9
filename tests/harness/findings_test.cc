// crashgate findings: failed cells grouped by engine and signature, the
// smallest reproducer picked, and the reports that say so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/findings.h"

namespace crashgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

CellResult failed_cell(const std::string& id, const std::string& target, const std::string& signature, int steps,
                       std::int64_t ms, std::optional<EngineId> engine) {
  CellResult c;
  c.cell.id = id;
  c.cell.scenario = "s";
  c.cell.target = target;
  c.cell.build = "release";
  c.cell.steps.resize(steps);
  c.scenario_file = "/src/scenarios/corrupt-files/s.toml";
  c.verdict = signature.empty() ? Verdict::pass : Verdict::fail;
  Attempt a;
  a.verdict = c.verdict;
  a.outcome.kind = signature.empty() ? OutcomeKind::ok : OutcomeKind::signal;
  a.outcome.detail = "SIGFPE in " + id;
  a.outcome.signature = signature;
  a.outcome.crash_state = signature.empty() ? "" : "signal SIGFPE\nmdb_env_open";
  a.outcome.duration_ms = ms;
  a.outcome.engine = engine;
  a.outcome.threads.push_back(Thread{1, "w", "crashed", {Frame{"", "", 0, 0, "/usr/lib/liblmdb.so.0", 0x10191, 0}, Frame{"mdb_env_open", "", 0, 0, "/usr/lib/liblmdb.so.0", 0x20, 0}, Frame{"crashgate::kit::Driver::run_cell()", "", 0, 0, "/x", 1, 0}}, ""});
  a.outcome.crashing_thread = 0;
  c.attempts.push_back(a);
  return c;
}

TEST(Findings, FailedCellsAreGroupedByEngineThenSignatureWithTheSmallestCellToReproduce) {
  EngineId lmdb{"lmdb", "0.9.24"};
  FindingsInput run;
  run.results.cells = {failed_cell("a[big]", "lmdb", "sig1", 6, 100, lmdb), failed_cell("a[small]", "lmdb", "sig1", 3, 900, lmdb),
                       failed_cell("a[same-steps-faster]", "lmdb", "sig1", 3, 200, lmdb),
                       failed_cell("b", "lmdb", "sig2", 2, 50, lmdb), failed_cell("ok", "lmdb", "", 2, 50, lmdb),
                       failed_cell("v", "vstore", "sig1", 2, 50, EngineId{"vstore", "0.1.0"})};
  auto by_engine = collect_findings({run}, "/src");
  ASSERT_EQ(by_engine.size(), 2u);
  const EngineFindings& l = by_engine.at("lmdb");
  EXPECT_EQ(l.cells, 5);
  EXPECT_EQ(l.failed, 4);
  EXPECT_THAT(l.versions, ElementsAre("0.9.24"));
  ASSERT_EQ(l.findings.size(), 2u) << "one finding per signature";
  const Finding& f = l.findings[0];
  EXPECT_EQ(f.signature, "sig1");
  EXPECT_THAT(f.cells, ElementsAre("a[big]", "a[small]", "a[same-steps-faster]"));
  EXPECT_EQ(f.smallest_cell, "a[same-steps-faster]") << "fewest steps, then the shortest run";
  EXPECT_EQ(f.repro, "build/release/bin/crashgate run scenarios/corrupt-files/s.toml --build release --filter 'a[same-steps-faster]'");
  EXPECT_THAT(f.fault_classes, ElementsAre("corrupt-files"));
  ASSERT_EQ(f.frames.size(), 2u) << "the driver kit's frame is not the engine's";
  EXPECT_EQ(f.frames[1].function, "mdb_env_open");
  EXPECT_EQ(by_engine.at("vstore").findings.size(), 1u) << "the same signature in another engine is another finding";
}

TEST(Findings, AFuzzCrashBelongsToTheEngineItsTargetIsNamedAfter) {
  CellResult fuzz = failed_cell("fuzz/lmdb_open/fuzz[crash=sig9]", "lmdb_open", "sig9", 0, 10, std::nullopt);
  fuzz.cell.scenario = "fuzz:lmdb_open";
  fuzz.cell.params["crash"] = "sig9";
  CellResult summary = failed_cell("fuzz/lmdb_open/fuzz", "lmdb_open", "", 0, 10, std::nullopt);
  summary.cell.scenario = "fuzz:lmdb_open";
  EXPECT_EQ(engine_of(fuzz), "lmdb");
  FindingsInput run;
  run.results.cells = {summary, fuzz};
  auto by_engine = collect_findings({run}, "");
  ASSERT_TRUE(by_engine.count("lmdb"));
  EXPECT_EQ(by_engine.at("lmdb").cells, 1) << "the fuzz run's per-target line is not a cell of its own";
  EXPECT_THAT(by_engine.at("lmdb").findings.at(0).fault_classes, ElementsAre("fuzz:lmdb_open"));
}

TEST(Findings, TheReportsSayWhichFindingsAreKnownAndWhichBlock) {
  EngineFindings f;
  f.engine = "lmdb";
  f.versions = {"0.9.24"};
  f.cells = 10;
  f.failed = 2;
  Finding known{.signature = "s1", .kind = "signal", .detail = "SIGFPE", .cells = {"c1"}, .builds = {"release"},
                .fault_classes = {"corrupt-files"}, .smallest_cell = "c1", .repro = "crashgate run x"};
  known.known_issue = KnownIssueMatch{"LMDB-1", "psize 0", "", "state"};
  known.upstream = "unchanged in 0.9.31";
  Finding fresh{.signature = "s2", .kind = "signal", .detail = "SIGSEGV", .cells = {"c2"}, .builds = {"asan"},
                .fault_classes = {"fuzz:lmdb_open"}, .smallest_cell = "c2", .repro = "build/release/fuzz/lmdb_open_replay in"};
  f.findings = {known, fresh};
  std::string md = findings_markdown(f);
  EXPECT_THAT(md, HasSubstr("# Findings: lmdb 0.9.24"));
  EXPECT_THAT(md, HasSubstr("**2 distinct crashes** (1 filed as known issues, 1 not)"));
  EXPECT_THAT(md, HasSubstr("| `s2` | signal | SIGSEGV | 1 | fuzz:lmdb\\_open | **new** |"));
  EXPECT_THAT(md, HasSubstr("- upstream: unchanged in 0.9.31"));
  EXPECT_THAT(md, HasSubstr("**not a known issue**"));
  nlohmann::json j = to_json(f);
  EXPECT_EQ(j["schema"], kFindingsSchema);
  EXPECT_EQ(j["findings"][0]["known_issue"]["id"], "LMDB-1");
  EXPECT_EQ(j["findings"][0]["known_issue"]["upstream"], "unchanged in 0.9.31");
  EXPECT_TRUE(j["findings"][1]["known_issue"].is_null());
}

}  // namespace
}  // namespace crashgate
