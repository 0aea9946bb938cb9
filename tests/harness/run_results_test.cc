// results.json: what the writer writes, the reader reads back, field for field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/run_results.h"
#include "harness/support/refusal.h"
#include "harness/support/sample_results.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

TEST(RunResultsJson, RoundTripsEveryField) {
  RunResults r = testing::sample_results();
  nlohmann::json written = to_json(r);
  auto read = run_results_from_json(written);
  ASSERT_TRUE(read) << testing::refusal(read);
  EXPECT_EQ(to_json(*read), written);
  ASSERT_EQ(read->cells.size(), 1u);
  const CellResult& cell = read->cells[0];
  EXPECT_EQ(cell.cell.seed, r.cells[0].cell.seed);
  EXPECT_EQ(cell.cell.limits, r.cells[0].cell.limits);
  EXPECT_EQ(cell.cell.steps[0].args["dim"], 64);
  EXPECT_EQ(cell.cell.expect.step, 1);
  ASSERT_EQ(cell.attempts.size(), 2u);
  EXPECT_EQ(cell.attempts[0].verdict, Verdict::fail);
  EXPECT_EQ(cell.attempts[0].outcome, r.cells[0].attempts[0].outcome);
  EXPECT_EQ(cell.attempts[1].verdict, Verdict::pass);
}

TEST(RunResultsJson, TheFirstAttemptIsFlatAndRerunsFollow) {
  nlohmann::json j = to_json(testing::sample_results());
  EXPECT_EQ(j["schema"], "crashgate.results/1");
  EXPECT_EQ(j["counts"]["flaky"], 1);
  EXPECT_EQ(j["counts"]["pass"], 0);
  const auto& cell = j["cells"][0];
  EXPECT_EQ(cell["verdict"], "flaky");
  EXPECT_EQ(cell["attempts"], 2);
  EXPECT_EQ(cell["outcome"]["signal"], "SIGSEGV");
  EXPECT_EQ(cell["reruns"][0]["outcome"]["signal"], "SIGBUS");
  EXPECT_EQ(cell["limits"]["wall_ms"], 20000);
  EXPECT_EQ(cell["limits"]["cpu_ms"], 5000);
  EXPECT_EQ(cell["limits"]["stack"], 8 << 20);
  EXPECT_EQ(cell["seed"].get<std::uint64_t>(), 18'000'000'000'000'000'001ull);
}

TEST(RunResultsJson, ReadingNamesTheFieldThatIsWrong) {
  nlohmann::json j = to_json(testing::sample_results());
  std::string error;
  j["cells"][0].erase("verdict");
  error = testing::refusal(run_results_from_json(j));
  EXPECT_EQ(error, "cells[0].verdict: missing");
  j = to_json(testing::sample_results());
  j["cells"][0]["reruns"][0]["outcome"]["kind"] = "exploded";
  error.clear();
  error = testing::refusal(run_results_from_json(j));
  EXPECT_THAT(error, HasSubstr("cells[0].reruns[0].outcome."));
  j["schema"] = "crashgate.results/2";
  error.clear();
  error = testing::refusal(run_results_from_json(j));
  EXPECT_THAT(error, HasSubstr("this crashgate reads crashgate.results/1"));
}

TEST(RunResultsJson, CheckInvariantsIsKeptSoReproRunsTheCellAsItRan) {
  RunResults r = testing::sample_results();
  r.cells[0].cell.check_invariants = true;
  nlohmann::json j = to_json(r);
  EXPECT_EQ(j["cells"][0]["check_invariants"], true);
  auto read = run_results_from_json(j);
  ASSERT_TRUE(read) << testing::refusal(read);
  EXPECT_TRUE(read->cells[0].cell.check_invariants);
  j["cells"][0].erase("check_invariants");  // a file written before the field
  read = run_results_from_json(j);
  ASSERT_TRUE(read) << testing::refusal(read);
  EXPECT_FALSE(read->cells[0].cell.check_invariants);
  j["cells"][0]["check_invariants"] = "yes";
  EXPECT_EQ(testing::refusal(run_results_from_json(j)), "cells[0].check_invariants: not true or false");
}

TEST(LimitsJson, OnlySetLimitsAreWrittenAndUnknownOnesAreIgnored) {
  Limits defaults;
  EXPECT_EQ(limits_json(defaults), (nlohmann::json{{"wall_ms", 30000}, {"core", 0}}));
  std::string error;
  auto read = limits_from_json({{"wall_ms", 500}, {"stack", 4096}, {"from_the_future", 1}});
  ASSERT_TRUE(read) << testing::refusal(read);
  EXPECT_EQ(read->wall, std::chrono::milliseconds(500));
  EXPECT_EQ(read->stack, 4096u);
  error = testing::refusal(limits_from_json({{"stack", "big"}}));
  EXPECT_THAT(error, HasSubstr("stack"));
}

}  // namespace
}  // namespace crashgate
