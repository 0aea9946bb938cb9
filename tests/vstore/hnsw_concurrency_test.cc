// Insert, search, remove, sync, compaction and file growth from many threads at
// once (run under TSan in ci/test): searches return only records that exist,
// nearest first, and the index is whole afterwards, every node reachable.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <shared_mutex>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "storage/store_impl.h"
#include "vstore/failpoint.h"
#include "vstore/store.h"
#include "vstore/testing.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using testing::make_record;
using testing::make_records;

// The nodes no walk along level-0 links from the entry point reaches, each with
// its own links (a stranded node is one no search can ever return).
std::vector<std::string> unreachable_nodes(Store& store) {
  internal::StoreImpl& impl = vstore::testing::impl(store);
  std::shared_lock lock(impl.state_mutex_for_testing());
  internal::GraphSnapshot snap = impl.graph_snapshot();
  const internal::HnswGraph& graph = *impl.graph_for_testing();
  std::vector<bool> seen(snap.count);
  std::deque<uint32_t> todo;
  if (graph.entry() < snap.count) {
    seen[graph.entry()] = true;
    todo.push_back(graph.entry());
  }
  for (; !todo.empty(); todo.pop_front())
    for (uint32_t next : graph.links_for_testing(snap, todo.front(), 0))
      if (next < snap.count && !seen[next]) {
        seen[next] = true;
        todo.push_back(next);
      }
  std::vector<std::string> out;
  for (uint32_t node = 0; node < snap.count; ++node)
    if (!seen[node]) out.push_back(fmt::format("node {} -> [{}]", node, fmt::join(graph.links_for_testing(snap, node, 0), ",")));
  return out;
}

TEST(HnswConcurrency, InsertSearchRemoveAndGrowFromSixThreads) {
  testing::ScratchDir d;
  constexpr uint32_t kDim = 8;
  CreateOptions o;
  o.dim = kDim;
  o.index.m = 6;
  o.index.ef_construction = 24;
  auto s = std::move(Store::create(d / "s", o)).value();
  ASSERT_TRUE(s->add(make_records(0, 300, kDim)).ok());
  if (failpoints_compiled_in()) {
    // Widen the windows between a linker's lookup and its writes, and mid-list.
    ASSERT_TRUE(configure_failpoints("hnsw.link.after_lookup=3%yield;hnsw.link.mid_write=3%yield").ok());
  }
  constexpr uint64_t kPerWriter = 1500, kBatch = 50;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> searches{0}, bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (uint64_t first = 1000 + w * kPerWriter; first < 1000 + (w + 1) * kPerWriter; first += kBatch)
        if (!s->add(make_records(first, kBatch, kDim)).ok()) bad.fetch_add(1);
    });
  }
  threads.emplace_back([&] {  // removes, syncs and compacts while the others run
    for (uint64_t round = 0; round < 6; ++round) {
      std::vector<uint64_t> gone;
      for (uint64_t id = round; id < 300; id += 12) gone.push_back(id);
      if (!s->remove(gone).ok()) bad.fetch_add(1);
      if (!(round == 3 ? s->compact() : s->sync()).ok()) bad.fetch_add(1);
    }
  });
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      uint64_t x = r + 1;
      while (!stop.load()) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t id = (x >> 33) % 4000;
        auto hits = s->search(make_record(id, kDim).vector, {.k = 5, .ef = 24});
        if (!hits.ok()) {
          bad.fetch_add(1);
          continue;
        }
        for (size_t i = 0; i < hits->size(); ++i) {
          uint64_t got = (*hits)[i].id;
          if (got >= 1000 + 2 * kPerWriter && got >= 300) bad.fetch_add(1);  // never added
          if (i > 0 && (*hits)[i - 1].distance > (*hits)[i].distance) bad.fetch_add(1);
        }
        searches.fetch_add(1);
      }
    });
  }
  for (int t = 0; t < 3; ++t) threads[t].join();
  stop = true;
  for (size_t t = 3; t < threads.size(); ++t) threads[t].join();
  ASSERT_TRUE(configure_failpoints("").ok() || !failpoints_compiled_in());
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(searches.load(), 0u);
  ASSERT_TRUE(s->sync().ok());
  // Every record the writers added is found by its own vector.
  int missed = 0;
  for (uint64_t id = 1000; id < 1000 + 2 * kPerWriter; id += 11) {
    auto hits = s->search(make_record(id, kDim).vector, {.k = 1, .ef = 32});
    ASSERT_TRUE(hits.ok());
    missed += hits->empty() || (*hits)[0].id != id;
  }
  EXPECT_LE(missed, 3);
  // Two writers linking at once once stranded nodes: a linker that reached a
  // node by an upper-level link before its level-0 list was written linked
  // only to it, and that list's write then dropped the link back.
  std::vector<std::string> stranded = unreachable_nodes(*s);
  EXPECT_TRUE(stranded.empty()) << stranded.size() << " unreachable, the first " << stranded.front();
  ASSERT_TRUE(s->close().ok());
  FsckReport report = Store::fsck(d / "s");
  EXPECT_TRUE(report.ok()) << report.problems[0];
}

// A linker paused between choosing its node's neighbours and linking them keeps
// its old snapshot while another add links newer nodes into those neighbours'
// full lists. Its pruning must keep the links to the newer nodes: it cannot
// weigh them, and dropping them once stranded nodes.
TEST(HnswConcurrency, PruningWithAnOldSnapshotKeepsLinksToNewerNodes) {
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled in";
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 8;
  o.index.m = 4;  // lists of 8 at level 0: full after a few hundred nodes
  o.index.ef_construction = 32;
  auto s = std::move(Store::create(d / "s", o)).value();
  ASSERT_TRUE(s->add(make_records(0, 300, 8)).ok());
  ASSERT_TRUE(configure_failpoints("hnsw.link.after_lookup=1*delay(1500)").ok());
  std::atomic<bool> linked{false};
  std::thread paused([&] {
    EXPECT_TRUE(s->add({make_record(300, 8)}).ok());
    linked = true;
  });
  while (failpoint_hits(FailSite::hnsw_link_after_lookup) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(s->add(make_records(301, 300, 8)).ok());  // slots 301..600, linked past the paused one
  internal::StoreImpl& impl = vstore::testing::impl(*s);
  auto lists = [&] {
    std::shared_lock lock(impl.state_mutex_for_testing());
    internal::GraphSnapshot snap = impl.graph_snapshot();
    std::vector<std::vector<uint32_t>> out;
    for (uint32_t node = 0; node < 300; ++node) out.push_back(impl.graph_for_testing()->links_for_testing(snap, node, 0));
    return out;
  };
  std::vector<std::vector<uint32_t>> before = lists();
  bool still_paused = !linked.load();
  paused.join();
  ASSERT_TRUE(configure_failpoints("").ok());
  if (!still_paused) GTEST_SKIP() << "the other add outlasted the pause; nothing was tested";
  std::vector<std::vector<uint32_t>> after = lists();
  int pruned = 0;  // lists the paused linker pruned that held newer nodes
  for (uint32_t node = 0; node < 300; ++node) {
    bool gained = std::find(after[node].begin(), after[node].end(), 300u) != after[node].end() &&
                  std::find(before[node].begin(), before[node].end(), 300u) == before[node].end();
    bool full = before[node].size() == 8;
    if (!gained || !full) continue;
    for (uint32_t id : before[node]) {
      if (id <= 300) continue;
      ++pruned;
      EXPECT_TRUE(std::find(after[node].begin(), after[node].end(), id) != after[node].end())
          << "node " << node << " lost its link to " << id << ", newer than the pruner's snapshot";
    }
  }
  EXPECT_GT(pruned, 0) << "no full list with newer links was pruned: the test no longer tests";
}

}  // namespace
}  // namespace vstore
