// The kit's search oracle: recall@k against its own exact search, ties,
// self-queries, and the judgement a min_recall asks for.
#include "crashgate/search_oracle.h"

#include <gtest/gtest.h>

namespace crashgate::kit {
namespace {

// Points on a line: record i at (i, 0), so the nearest to (x, 0) are obvious.
std::vector<OracleRecord> line(std::uint64_t n) {
  std::vector<OracleRecord> out;
  for (std::uint64_t i = 0; i < n; ++i) out.push_back({i, {static_cast<float>(i), 0.0f}});
  return out;
}

TEST(SearchOracle, DistancesPerMetricOrderAsTheMetricMeans) {
  std::vector<float> a{1, 0}, b{2, 0}, c{0, 1};
  EXPECT_DOUBLE_EQ(reference_distance(Metric::l2, a, b), 1.0);
  EXPECT_DOUBLE_EQ(reference_distance(Metric::inner_product, a, b), -2.0) << "a larger dot product is nearer";
  EXPECT_DOUBLE_EQ(reference_distance(Metric::cosine, a, b), 0.0) << "parallel vectors are at cosine distance 0";
  EXPECT_DOUBLE_EQ(reference_distance(Metric::cosine, a, c), 1.0);
  EXPECT_DOUBLE_EQ(reference_distance(Metric::cosine, a, std::vector<float>{0, 0}), 1.0) << "a zero vector is far from everything";
  EXPECT_EQ(metric_named("ip"), Metric::inner_product);
  EXPECT_EQ(metric_named("inner_product"), Metric::inner_product);
  EXPECT_EQ(metric_named("hamming"), std::nullopt);
  EXPECT_EQ(metric_name(Metric::cosine), "cosine");
}

TEST(SearchOracle, TheExactNeighboursScoreRecallOne) {
  auto records = line(100);
  std::vector<OracleQuery> queries{{{10.2f, 0}, std::nullopt}, {{50, 0}, 50}};
  std::vector<std::vector<std::uint64_t>> hits{{10, 11, 9}, {50, 49, 51}};
  RecallMeasure m = measure_recall(Metric::l2, records, queries, hits, 3);
  EXPECT_EQ(m.expected, 6u);
  EXPECT_EQ(m.found, 6u);
  EXPECT_DOUBLE_EQ(m.recall(), 1.0);
  EXPECT_EQ(m.self_queries, 1u);
  EXPECT_EQ(m.self_found, 1u);
  EXPECT_TRUE(judge_recall(m, 1.0).is_ok);
  EXPECT_EQ(m.figures().at("recall"), 1.0);
  EXPECT_EQ(m.figures().at("self_found"), 1.0);
}

TEST(SearchOracle, WrongNeighboursLowerRecallAndFailTheFloorNamingAMissedId) {
  auto records = line(100);
  std::vector<OracleQuery> queries{{{10, 0}, std::nullopt}, {{60, 0}, std::nullopt}};
  // The first query gets far records; the second its exact three.
  std::vector<std::vector<std::uint64_t>> hits{{90, 91, 10}, {60, 59, 61}};
  RecallMeasure m = measure_recall(Metric::l2, records, queries, hits, 3);
  EXPECT_EQ(m.found, 4u);
  EXPECT_NEAR(m.recall(), 4.0 / 6.0, 1e-12);
  EXPECT_EQ(m.worst_query, 0u);
  ASSERT_TRUE(m.worst_missed.has_value());
  EXPECT_TRUE(*m.worst_missed == 9 || *m.worst_missed == 11);
  EXPECT_TRUE(judge_recall(m, std::nullopt).is_ok) << "without a floor recall is measured, not judged";
  StepResult r = judge_recall(m, 0.9);
  EXPECT_FALSE(r.is_ok);
  EXPECT_EQ(r.code, "wrong-result");
  EXPECT_NE(r.message.find("recall@3 is 0.6667"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("min_recall 0.9"), std::string::npos) << r.message;
}

TEST(SearchOracle, ATieWithTheKthNeighbourCountsAsFound) {
  // Records 9 and 11 are both at distance 1 from 10: either one is right for k = 2.
  auto records = line(20);
  std::vector<OracleQuery> queries{{{10, 0}, std::nullopt}};
  for (std::uint64_t other : {9u, 11u}) {
    std::vector<std::vector<std::uint64_t>> hits{{10, other}};
    EXPECT_DOUBLE_EQ(measure_recall(Metric::l2, records, queries, hits, 2).recall(), 1.0) << other;
  }
}

TEST(SearchOracle, DuplicateAndUnknownIdsAndHitsPastKCountForNothing) {
  auto records = line(20);
  std::vector<OracleQuery> queries{{{10, 0}, std::nullopt}};
  std::vector<std::vector<std::uint64_t>> hits{{10, 10, 777, 9, 11}};
  RecallMeasure m = measure_recall(Metric::l2, records, queries, hits, 3);
  EXPECT_EQ(m.found, 2u) << "10 once, 777 is no record; 9 is the third distinct id and counts, 11 is past k";
}

TEST(SearchOracle, AMissedSelfQueryFailsUnderAFloorButIsNotAskedUnderInnerProduct) {
  auto records = line(10);
  std::vector<OracleQuery> queries{{{5, 0}, 5}};
  std::vector<std::vector<std::uint64_t>> hits{{4, 6}};
  RecallMeasure m = measure_recall(Metric::l2, records, queries, hits, 2);
  EXPECT_EQ(m.self_queries, 1u);
  EXPECT_EQ(m.self_found, 0u);
  StepResult r = judge_recall(m, 0.0);
  EXPECT_FALSE(r.is_ok);
  EXPECT_NE(r.message.find("record 5's own vector"), std::string::npos) << r.message;
  RecallMeasure ip = measure_recall(Metric::inner_product, records, queries, hits, 2);
  EXPECT_EQ(ip.self_queries, 0u) << "under inner product a longer vector is nearer than the record itself";
}

TEST(SearchOracle, QueriesAlternateRandomAndARecordsOwnVector) {
  auto records = line(50);
  std::mt19937_64 rng(3);
  auto queries = oracle_queries(records, 2, 6, rng);
  ASSERT_EQ(queries.size(), 6u);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    EXPECT_EQ(queries[i].self.has_value(), i % 2 == 1) << i;
    if (queries[i].self) EXPECT_EQ(queries[i].vector, records[*queries[i].self].vector);
    for (float v : queries[i].vector)
      if (!queries[i].self) EXPECT_TRUE(v >= -1 && v <= 1);
  }
}

TEST(SearchOracle, AFloorTheModelCannotJudgeIsAnErrorNotSkipped) {
  Context context;
  std::mt19937_64 rng(1);
  int searched = 0;
  SearchOne one = [&](const std::vector<float>&, std::vector<std::uint64_t>&) {
    ++searched;
    return StepResult::ok();
  };
  OracleSearch ask{.metric = Metric::l2, .model_exact = false, .live = 10, .dim = 2, .queries = 3, .k = 2, .min_recall = 0.9};
  StepResult r = oracle_searches(ask, [] { return line(10); }, rng, one, context);
  EXPECT_FALSE(r.is_ok);
  EXPECT_EQ(r.code, "invalid-argument");
  EXPECT_NE(r.message.find("knows record for record"), std::string::npos) << r.message;
  EXPECT_EQ(searched, 0);
  ask.min_recall.reset();
  r = oracle_searches(ask, [] { return line(10); }, rng, one, context);
  EXPECT_TRUE(r.is_ok);
  EXPECT_EQ(searched, 3);
  EXPECT_TRUE(r.measured.empty()) << "nothing is measured against a model that does not know the store";
}

TEST(SearchOracle, AnExactModelMeasuresEveryStepAndJudgesTheFloor) {
  Context context;
  std::mt19937_64 rng(1);
  auto records = line(30);
  // An engine that always answers the far end of the line: the random
  // queries (near the origin) find none of their neighbours, so recall is at
  // most 4 of 8 (the two self-queries, however they fall).
  SearchOne bad = [](const std::vector<float>&, std::vector<std::uint64_t>& ids) {
    ids = {28, 29};
    return StepResult::ok();
  };
  OracleSearch ask{.metric = Metric::l2, .model_exact = true, .live = 30, .dim = 2, .queries = 4, .k = 2, .min_recall = 0.6};
  StepResult r = oracle_searches(ask, [&] { return records; }, rng, bad, context);
  EXPECT_FALSE(r.is_ok);
  EXPECT_EQ(r.code, "wrong-result");
  ASSERT_TRUE(r.measured.count("recall"));
  EXPECT_LE(r.measured.at("recall"), 0.5);
  EXPECT_EQ(r.measured.at("queries"), 4.0);
}

}  // namespace
}  // namespace crashgate::kit
