// Each index regression switch, turned on in a child, misbehaves as its report
// says; the same steps on the hardened engine do not.
#include <signal.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "index/graph_format.h"
#include "storage/store_impl.h"
#include "vstore/failpoint.h"
#include "vstore/regression.h"
#include "vstore/store.h"
#include "vstore/testing.h"
#include "vstore/support/child_process.h"
#include "vstore/support/scratch.h"
#include "vstore/support/sanitizers.h"

namespace vstore {
namespace {

using testing::ChildResult;
using testing::make_record;
using testing::make_records;
using testing::run_in_child;
using testing::ScratchDir;

#define REQUIRE_SWITCHES()                                                                   \
  if (!regressions_compiled_in()) GTEST_SKIP() << "regression switches are not compiled in"; \
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled in"

bool crashed(const ChildResult& r) {
  return (!r.exited && (r.signal == SIGSEGV || r.signal == SIGBUS)) || r.output.find("ERROR: AddressSanitizer") != std::string::npos ||
         r.output.find("ThreadSanitizer: SEGV") != std::string::npos;
}
bool tsan_reported(const ChildResult& r) { return r.output.find("ThreadSanitizer") != std::string::npos; }

ChildResult with_switch(const char* regressions, const std::function<int()>& body) {
  return run_in_child([&] {
    if (!set_regressions(regressions).ok()) return 90;
    return body();
  });
}

CreateOptions small_index(uint32_t dim, uint32_t m = 8) {
  CreateOptions o;
  o.dim = dim;
  o.index.m = m;
  o.index.ef_construction = 32;
  return o;
}

TEST(IndexRegression, UncheckedNeighborIdFollowsAForgedLinkOutOfTheMapping) {
  REQUIRE_SWITCHES();
  ScratchDir d;
  {
    auto s = std::move(Store::create(d / "s", small_index(8))).value();
    ASSERT_TRUE(s->add(make_records(0, 300, 8)).ok());
    ASSERT_TRUE(s->close().ok());
  }
  // Every level-0 list's first link becomes a node two billion slots away.
  std::string graph = d / "s/graph-000001.bin";
  std::string bytes = testing::read_file(graph);
  const uint64_t node_size = sizeof(internal::NodeHead) + 4 * 16;
  for (uint64_t node = 0; node < 300; ++node) {
    uint32_t wild = 0x7ffffff0;
    std::memcpy(bytes.data() + internal::kDataStart + node * node_size + sizeof(internal::NodeHead), &wild, 4);
  }
  testing::write_file(graph, bytes);
  auto search = [&] {
    auto s = std::move(Store::open(d / "s", {.read_only = true})).value();
    auto hits = s->search(make_record(7, 8).vector, {.k = 5, .ef = 32});
    fmt::print("search: {}\n", hits.status().to_string());
    return hits.ok() && !hits->empty() && (*hits)[0].id == 7 ? 0 : 1;
  };
  ChildResult on = with_switch("unchecked-neighbor-id", search);
  EXPECT_TRUE(crashed(on)) << on.describe();
  ChildResult off = with_switch("", search);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << "hardened: the forged links are skipped. " << off.describe();
  // Search skips them; fsck names them: the graph is clean (its writer closed it), and a clean graph
  // links committed nodes only (links past the commit, which a crash mid-change leaves, come with the
  // dirty mark, which makes fsck leave them to the writer's rebuild).
  FsckReport report = Store::fsck(d / "s");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.problems.at(0).find("links to node 2147483632, past the last of the 300 committed"), std::string::npos)
      << report.problems.at(0);
}

// A linker is paused halfway through writing a new node's list (its count
// written, its ids not yet); a reader copies the list meanwhile. Returns 0 if
// the copy equals the finished list, 1 if it was torn.
int read_a_list_mid_write() {
  ScratchDir d;
  auto s = std::move(Store::create(d / "s", small_index(8))).value();
  if (!s->add(make_records(0, 300, 8)).ok()) return 2;
  if (!configure_failpoints("hnsw.link.mid_write=1*delay(700)").ok()) return 91;
  std::thread writer([&] {
    if (!s->add({make_record(300, 8)}).ok()) std::abort();
  });
  while (failpoint_hits(FailSite::hnsw_link_mid_write) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  internal::StoreImpl& impl = vstore::testing::impl(*s);
  std::vector<std::vector<uint32_t>> seen;
  {
    std::shared_lock lock(impl.state_mutex_for_testing());
    internal::GraphSnapshot snap = impl.graph_snapshot();
    for (uint32_t level = 0; level <= internal::kMaxLevel; ++level) seen.push_back(impl.graph_for_testing()->links_for_testing(snap, 300, level));
  }
  writer.join();
  std::shared_lock lock(impl.state_mutex_for_testing());
  internal::GraphSnapshot snap = impl.graph_snapshot();
  int torn = 0;
  for (uint32_t level = 0; level <= internal::kMaxLevel; ++level) {
    std::vector<uint32_t> final_list = impl.graph_for_testing()->links_for_testing(snap, 300, level);
    if (!seen[level].empty() && seen[level] != final_list) {
      fmt::print("level {}: read {} links [{}], the list is [{}]\n", level, seen[level].size(), fmt::join(seen[level], ","), fmt::join(final_list, ","));
      torn = 1;
    }
  }
  return torn;
}

TEST(IndexRegression, UnlockedLinksReadsATornNeighbourList) {
  REQUIRE_SWITCHES();
  ChildResult on = with_switch("unlocked-links", read_a_list_mid_write);
  if (testing::under_tsan())
    EXPECT_TRUE(tsan_reported(on) || (on.exited && on.exit_code == 1)) << on.describe();
  else
    EXPECT_TRUE(on.exited && on.exit_code == 1) << "a torn list: " << on.describe();
  ChildResult off = with_switch("", read_a_list_mid_write);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

// A search is paused after its snapshot while 5,000 records are added; their
// links now fill the lists it goes on to read.
int search_across_growth() {
  ScratchDir d;
  auto s = std::move(Store::create(d / "s", small_index(8))).value();
  if (!s->add(make_records(0, 1000, 8)).ok()) return 2;
  if (!configure_failpoints("hnsw.search.before_expand=1*delay(1500)").ok()) return 91;
  int bad = 0;
  std::thread searcher([&] {
    auto hits = s->search(make_record(500, 8).vector, {.k = 10, .ef = 64});
    if (!hits.ok()) {
      ++bad;
      return;
    }
    for (const SearchHit& h : *hits) {
      auto r = s->get(h.id);
      if (!r.ok() || h.id >= 1000) ++bad;  // only what the snapshot held may come back
    }
  });
  while (failpoint_hits(FailSite::hnsw_search_before_expand) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (uint64_t first = 1000; first < 6000; first += 500)
    if (!s->add(make_records(first, 500, 8)).ok()) return 3;
  searcher.join();
  return bad == 0 ? 0 : 1;
}

TEST(IndexRegression, ToctouNeighborUsesANodeItsSnapshotDoesNotHold) {
  REQUIRE_SWITCHES();
  if (testing::under_tsan()) GTEST_SKIP() << "a heap overflow, which ASan reports; TSan has no check for it";
  ChildResult on = with_switch("toctou-neighbor", search_across_growth);
  EXPECT_TRUE(crashed(on) || (on.exited && on.exit_code == 1)) << on.describe();
  ChildResult off = with_switch("", search_across_growth);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

}  // namespace
}  // namespace vstore
