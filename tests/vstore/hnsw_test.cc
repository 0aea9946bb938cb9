// The index as a user sees it through Store: every metric finds what exact
// search finds, removals and delete_where never come back, and the graph
// survives reopening (without a rebuild) and compaction.
#include <gtest/gtest.h>

#include <unordered_set>

#include "storage/store_impl.h"
#include "vstore/filter.h"
#include "vstore/store.h"
#include "vstore/support/clustered.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using testing::ScratchDir;

std::unique_ptr<Store> make_store(const std::string& dir, uint32_t dim, Metric metric, uint64_t n, IndexOptions index = {}) {
  CreateOptions o;
  o.dim = dim;
  o.metric = metric;
  o.index = index;
  auto s = std::move(Store::create(dir, o)).value();
  std::vector<float> data = testing::clustered_vectors(n, dim, 11, 20);
  std::vector<Record> records(n);
  for (uint64_t i = 0; i < n; ++i) {
    records[i].id = 1000 + i;
    records[i].vector.assign(data.begin() + i * dim, data.begin() + (i + 1) * dim);
    records[i].attributes.push_back({"file_path", "src/file_" + std::to_string(i % 10) + ".py"});
  }
  EXPECT_TRUE(s->add(records).ok());
  return s;
}

// Mean overlap of search() with exact_search() over queries near the data.
double recall_vs_exact(const Store& s, uint32_t dim, size_t k, size_t ef, uint64_t seed = 5) {
  std::vector<float> queries = testing::clustered_vectors(50, dim, seed, 20);
  double found = 0, total = 0;
  for (uint64_t q = 0; q < 50; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    auto exact = s.exact_search(query, k);
    auto approx = s.search(query, {.k = k, .ef = ef});
    EXPECT_TRUE(exact.ok() && approx.ok());
    std::unordered_set<uint64_t> want;
    for (const SearchHit& h : *exact) want.insert(h.id);
    for (const SearchHit& h : *approx) found += want.count(h.id);
    total += exact->size();
  }
  return found / total;
}

class EveryMetric : public ::testing::TestWithParam<Metric> {};

TEST_P(EveryMetric, SearchAgreesWithExactSearch) {
  ScratchDir d;
  auto s = make_store(d / "s", 24, GetParam(), 3000);
  EXPECT_GE(recall_vs_exact(*s, 24, 10, 64), 0.95) << metric_name(GetParam());
  auto hits = s->search(std::vector<float>(24, 0.1f), {.k = 5, .ef = 32});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 5u);
  for (size_t i = 1; i < hits->size(); ++i) EXPECT_LE((*hits)[i - 1].distance, (*hits)[i].distance) << "nearest first";
}

INSTANTIATE_TEST_SUITE_P(Metrics, EveryMetric, ::testing::Values(Metric::l2, Metric::ip, Metric::cosine),
                         [](const auto& info) { return std::string(metric_name(info.param)); });

TEST(Hnsw, EveryStoredVectorFindsItselfFirst) {
  ScratchDir d;
  auto s = make_store(d / "s", 16, Metric::l2, 2000);
  int missed = 0;
  for (uint64_t id = 1000; id < 3000; id += 7) {
    Record r = std::move(s->get(id)).value();
    auto hits = s->search(r.vector, {.k = 1, .ef = 32});
    ASSERT_TRUE(hits.ok());
    missed += hits->empty() || (*hits)[0].distance != 0.0f;
  }
  EXPECT_LE(missed, 2);
}

TEST(Hnsw, ReopenedStoreSearchesTheSameGraphWithoutARebuild) {
  ScratchDir d;
  std::vector<std::vector<SearchHit>> before;
  std::vector<float> queries = testing::clustered_vectors(20, 16, 9, 20);
  {
    auto s = make_store(d / "s", 16, Metric::l2, 2500);
    for (int q = 0; q < 20; ++q) before.push_back(std::move(s->search({queries.data() + q * 16, 16}, {.k = 10, .ef = 40})).value());
    ASSERT_TRUE(s->close().ok());
  }
  for (bool read_only : {true, false}) {
    auto s = std::move(Store::open(d / "s", {.read_only = read_only})).value();
    for (int q = 0; q < 20; ++q) EXPECT_EQ(std::move(s->search({queries.data() + q * 16, 16}, {.k = 10, .ef = 40})).value(), before[q]);
  }
  EXPECT_TRUE(Store::fsck(d / "s").ok());
}

TEST(Hnsw, RemovedRecordsAreNeverReturnedBeforeOrAfterSyncAndCompaction) {
  ScratchDir d;
  auto s = make_store(d / "s", 16, Metric::l2, 2000);
  std::vector<uint64_t> gone;
  for (uint64_t id = 1000; id < 3000; id += 2) gone.push_back(id);
  ASSERT_EQ(*s->remove(gone), gone.size());
  auto only_odd = [&](const char* when) {
    std::vector<float> queries = testing::clustered_vectors(30, 16, 3, 20);
    for (int q = 0; q < 30; ++q) {
      auto hits = std::move(s->search({queries.data() + q * 16, 16}, {.k = 10, .ef = 64})).value();
      EXPECT_EQ(hits.size(), 10u) << when;
      for (const SearchHit& h : hits) EXPECT_EQ(h.id % 2, 1u) << when << ": removed id " << h.id << " returned";
    }
  };
  only_odd("pending");
  ASSERT_TRUE(s->sync().ok());
  only_odd("tombstoned");
  EXPECT_GE(recall_vs_exact(*s, 16, 10, 64), 0.9);
  ASSERT_TRUE(s->compact().ok());
  only_odd("compacted");
  EXPECT_GE(recall_vs_exact(*s, 16, 10, 64), 0.95);
  ASSERT_TRUE(s->close().ok());
  EXPECT_TRUE(Store::fsck(d / "s").ok());
}

TEST(Hnsw, DeleteWhereRemovesEveryMatchFromStoreAndIndexInOneCommit) {
  ScratchDir d;
  auto s = make_store(d / "s", 8, Metric::l2, 1000);
  uint64_t seq = s->stats().commit_seq;
  Filter f = std::move(Filter::parse("file_path IN ('src/file_3.py', 'src/file_4.py')")).value();
  auto n = s->delete_where(f);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 200u);
  EXPECT_EQ(s->count(), 800u);
  EXPECT_EQ(s->stats().commit_seq, seq + 1) << "one commit";
  std::vector<float> queries = testing::clustered_vectors(30, 8, 3, 20);
  for (int q = 0; q < 30; ++q) {
    std::vector<SearchHit> hits = std::move(s->search({queries.data() + q * 8, 8}, {.k = 20, .ef = 64})).value();
    for (const SearchHit& h : hits) {
      uint64_t i = h.id - 1000;
      EXPECT_TRUE(i % 10 != 3 && i % 10 != 4) << "deleted id " << h.id << " returned";
    }
  }
  uint64_t after_delete = s->stats().commit_seq;
  EXPECT_EQ(*s->delete_where(f), 0u) << "nothing left to match";
  EXPECT_EQ(s->stats().commit_seq, after_delete) << "a delete that matches nothing commits nothing";
  ASSERT_TRUE(s->close().ok());
  auto again = std::move(Store::open(d / "s")).value();
  EXPECT_EQ(again->count(), 800u);
  EXPECT_FALSE(again->contains(1003));
}

TEST(Hnsw, BadQueriesAndOptionsAreInvalidArguments) {
  ScratchDir d;
  auto s = make_store(d / "s", 8, Metric::l2, 10);
  EXPECT_EQ(s->search(std::vector<float>(7, 0.0f)).status().code(), Code::invalid_argument);
  EXPECT_TRUE(std::move(s->search(std::vector<float>(8, 0.0f), {.k = 0})).value().empty());
  CreateOptions o;
  o.dim = 8;
  o.index.m = 1;
  EXPECT_EQ(Store::create(d / "bad", o).status().code(), Code::invalid_argument);
  o.index.m = 16;
  o.index.ef_construction = 0;
  EXPECT_EQ(Store::create(d / "bad2", o).status().code(), Code::invalid_argument);
}

TEST(Hnsw, AStoreWithoutAnIndexSearchesExactly) {
  ScratchDir d;
  auto s = make_store(d / "s", 8, Metric::l2, 500, {.enabled = false});
  EXPECT_EQ(testing::find_file(d / "s", "graph-"), "");
  EXPECT_DOUBLE_EQ(recall_vs_exact(*s, 8, 10, 10), 1.0);
}

TEST(Hnsw, EmptyStoreSearchReturnsNothing) {
  ScratchDir d;
  CreateOptions o;
  o.dim = 4;
  auto s = std::move(Store::create(d / "s", o)).value();
  EXPECT_TRUE(std::move(s->search(std::vector<float>(4, 0.0f))).value().empty());
  ASSERT_TRUE(s->close().ok());
  auto r = std::move(Store::open(d / "s")).value();
  EXPECT_TRUE(std::move(r->search(std::vector<float>(4, 0.0f))).value().empty());
}

}  // namespace
}  // namespace vstore
