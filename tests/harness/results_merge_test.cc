// `crashgate merge` (results_merge.h): shards joined into one results.json.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "crashgate/results_merge.h"
#include "crashgate/run_directory.h"
#include "crashgate/shard.h"
#include "harness/support/refusal.h"
#include "harness/support/crashers.h"
#include "harness/support/gate_results.h"
#include "harness/support/run_fixtures.h"
#include "harness/support/schema_docs.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using testing::gate_cell;
using testing::gate_run;

RunResults shard_run(const std::string& id, std::vector<CellResult> cells, const std::string& shard) {
  RunResults r = gate_run(std::move(cells));
  r.run_id = id;
  r.run_dir = "/runs/" + id;
  r.shard = shard;
  r.seed = 1;
  r.duration_ms = static_cast<std::int64_t>(id.size()) * 100;
  r.exit_code = run_exit_code(r);
  return r;
}

std::vector<std::string> ids(const RunResults& r) {
  std::vector<std::string> out;
  for (const auto& c : r.cells) out.push_back(c.cell.id);
  return out;
}

TEST(ResultsMerge, JoinsShardsCellsInOrderNotingEachShard) {
  auto a = shard_run("r1", {gate_cell("a/vstore/debug", Verdict::pass), gate_cell("c/vstore/debug", Verdict::fail)}, "1/2");
  auto b = shard_run("r22", {gate_cell("b/vstore/debug", Verdict::flaky)}, "2/2");
  auto merged = merge_results({a, b});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_THAT(ids(*merged), ::testing::ElementsAre("a/vstore/debug", "c/vstore/debug", "b/vstore/debug"));
  ASSERT_EQ(merged->merged_from.size(), 2u);
  EXPECT_EQ(merged->merged_from[0], (MergedRun{"r1", "/runs/r1", "1/2", "", 200, 2}));
  EXPECT_EQ(merged->merged_from[1].shard, "2/2");
  EXPECT_EQ(merged->duration_ms, 300) << "shards run side by side: the longest";
  EXPECT_EQ(merged->exit_code, 1) << "a cell failed";
  EXPECT_EQ(merged->shard, "");
}

TEST(ResultsMerge, TheResultsSchemaDocumentsMergedFromFieldByField) {
  auto a = shard_run("r1", {gate_cell("a/vstore/debug", Verdict::pass)}, "1/2");
  auto merged = merge_results({a});
  ASSERT_TRUE(merged) << merged.error();
  auto j = to_json(*merged);
  ASSERT_EQ(j["merged_from"].size(), 1u);
  EXPECT_EQ(testing::documented_fields(testing::report_doc("results-schema.md"), "`merged_from[]`"),
            testing::written_fields(j["merged_from"][0]));
  auto back = run_results_from_json(j);
  ASSERT_TRUE(back) << testing::refusal(back);
  EXPECT_EQ(back->merged_from, merged->merged_from);
}

TEST(ResultsMerge, ACellInTwoShardsWithTheSameVerdictIsKeptOnceWithDifferentOnesIsAnError) {
  auto a = shard_run("r1", {gate_cell("a/vstore/debug", Verdict::pass)}, "1/2");
  auto same = shard_run("r2", {gate_cell("a/vstore/debug", Verdict::pass)}, "2/2");
  auto merged = merge_results({a, same});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->cells.size(), 1u);
  auto other = shard_run("r3", {gate_cell("a/vstore/debug", Verdict::fail)}, "2/2");
  auto conflict = merge_results({a, other});
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error(), "cell 'a/vstore/debug' is pass in run r1 (/runs/r1) but fail in run r3 (/runs/r3): merge shards "
                   "that do not overlap");
}

TEST(ResultsMerge, RunsWithDifferentSeedsOrRegressionsDoNotMerge) {
  auto a = shard_run("r1", {gate_cell("a/vstore/debug", Verdict::pass)}, "1/2");
  auto b = shard_run("r2", {gate_cell("b/vstore/debug", Verdict::pass)}, "2/2");
  b.seed = 9;
  auto seeds = merge_results({a, b});
  ASSERT_FALSE(seeds);
  EXPECT_THAT(seeds.error(), HasSubstr("run r2 has seed 9, run r1 seed 1"));
  b.seed = 1;
  b.regression = "stale-size";
  auto regressions = merge_results({a, b});
  ASSERT_FALSE(regressions);
  EXPECT_THAT(regressions.error(), HasSubstr("switched on regression 'stale-size'"));
}

// The real thing: the vstore fixture and the basic fixture run as two shards
// by the binary, merged, equal a single run's cells.
TEST(ResultsMerge, TheMergeCommandRoundTripsShardRunsIntoOneResultsJson) {
  std::string root = testing::fake_build_root();
  std::string out = testing::scratch_dir("merge");
  std::vector<std::string> dirs;
  std::set<std::string> expected;
  for (int i = 1; i <= 2; ++i) {
    std::string shard_out = out + "/shard-" + std::to_string(i);
    Outcome o = testing::crashgate_run({"basic"}, root, shard_out,
                                       {"--build", testing::this_build(), "--shard", std::to_string(i) + "/2"});
    ASSERT_EQ(o.exit_code, 0) << o.stdout_excerpt.text() << o.stderr_excerpt.text();
    auto results = testing::latest_results(shard_out);
    EXPECT_EQ(results["shard"], std::to_string(i) + "/2");
    for (const auto& c : results["cells"]) expected.insert(c["id"].get<std::string>());
    dirs.push_back(shard_out + "/latest");
  }
  EXPECT_EQ(expected.size(), 3u) << "the basic fixture's three cells, across both shards";
  Outcome merged = testing::run_crashgate({"merge", out + "/merged", dirs[0], dirs[1] + "/results.json"});
  ASSERT_EQ(merged.exit_code, 0) << merged.stderr_excerpt.text();
  EXPECT_THAT(merged.stdout_excerpt.text(), HasSubstr("merged 2 runs, 3 cells (3 pass"));
  auto results = load_results(out + "/merged");
  ASSERT_TRUE(results) << results.error();
  std::set<std::string> got;
  for (const auto& c : results->cells) got.insert(c.cell.id);
  EXPECT_EQ(got, expected);
  ASSERT_EQ(results->merged_from.size(), 2u);
  EXPECT_EQ(results->merged_from[0].shard, "1/2");
  EXPECT_EQ(results->merged_from[1].shard, "2/2");
  EXPECT_THAT(results->cells[0].repro, HasSubstr("--run " + out + "/merged"));

  // The same shard twice is fine (same verdicts); a results file of another schema is not.
  Outcome twice = testing::run_crashgate({"merge", out + "/twice", dirs[0], dirs[0]});
  EXPECT_EQ(twice.exit_code, 0) << twice.stderr_excerpt.text();
  std::ofstream(out + "/other.json") << R"({"schema":"crashgate.results/2"})";
  Outcome bad = testing::run_crashgate({"merge", out + "/bad", dirs[0], out + "/other.json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_excerpt.text(), HasSubstr(out + "/other.json: schema: 'crashgate.results/2' (this crashgate reads crashgate.results/1)"));
}

}  // namespace
}  // namespace crashgate
