// Writers growing the store while readers read (run under TSan in ci/test):
// readers never see a torn or half-added record, and views stay valid.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "vstore/failpoint.h"
#include "vstore/store.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using testing::make_record;
using testing::make_records;

TEST(Concurrency, ReadersNeverSeeTornRecordsWhileAWriterGrowsRemovesAndCompacts) {
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 16;
  o.index.m = 6;  // a small index: linking runs alongside, cheaply (hnsw_concurrency_test.cc stresses it)
  o.index.ef_construction = 24;
  auto s = std::move(Store::create(d / "s", o)).value();
  ASSERT_TRUE(s->add(make_records(0, 500, 16)).ok());
  if (failpoints_compiled_in()) {
    // Widen the window between a reader's lookup and its read.
    ASSERT_TRUE(configure_failpoints("store.read.after_lookup=5%yield").ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, torn{0};
  std::atomic<uint64_t> max_added{500};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      uint64_t x = t + 1;
      while (!stop.load(std::memory_order_relaxed)) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t id = (x >> 33) % max_added.load();
        Result<Record> r = s->get(id);
        if (r.ok()) {
          if (!(*r == make_record(id, 16))) torn.fetch_add(1);
        } else if (r.status().code() != Code::not_found) {
          torn.fetch_add(1);
        }
        Result<RecordView> v = s->view(id);
        if (v.ok() && (v->id() != id || v->vector()[0] != make_record(id, 16).vector[0])) torn.fetch_add(1);
        (void)s->count();
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // The writer: grows past several mapping generations, removes, compacts.
  for (uint64_t round = 0; round < 12; ++round) {
    uint64_t first = 500 + round * 1500;
    ASSERT_TRUE(s->add(make_records(first, 1500, 16)).ok());
    max_added.store(first + 1500);
    std::vector<uint64_t> gone;
    for (uint64_t id = first; id < first + 1500; id += 7) gone.push_back(id);
    ASSERT_TRUE(s->remove(gone).ok());
    if (round % 4 == 3) ASSERT_TRUE(s->compact().ok());
    else ASSERT_TRUE(s->sync().ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  if (failpoints_compiled_in()) ASSERT_TRUE(configure_failpoints("").ok());
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(reads.load(), 100u);
  EXPECT_TRUE(Store::fsck(d / "s").ok());
}

TEST(Concurrency, ConcurrentWritersAreSerialisedAndLoseNothing) {
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 4;
  auto s = std::move(Store::create(d / "s", o)).value();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int b = 0; b < 20; ++b) {
        uint64_t first = static_cast<uint64_t>(t) * 100000 + b * 50;
        EXPECT_TRUE(s->add(make_records(first, 50, 4)).ok());
        if (b % 5 == 0) EXPECT_TRUE(s->sync().ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(s->count(), 4u * 20 * 50);
  ASSERT_TRUE(s->close().ok());
  auto r = std::move(Store::open(d / "s")).value();
  EXPECT_EQ(r->count(), 4000u);
  EXPECT_EQ(*r->get(300950), make_record(300950, 4));
}

}  // namespace
}  // namespace vstore
