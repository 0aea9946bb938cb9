#include "vstore/support/crash_workload.h"

#include <set>

#include <fmt/format.h>

#include "index/graph_format.h"
#include "vstore/failpoint.h"
#include "vstore/filter.h"
#include "vstore/regression.h"
#include "vstore/store.h"
#include "vstore/support/scratch.h"

namespace vstore::testing {

namespace {

std::vector<uint64_t> range(uint64_t first, uint64_t end, uint64_t step = 1) {
  std::vector<uint64_t> out;
  for (uint64_t i = first; i < end; i += step) out.push_back(i);
  return out;
}

// Which ids are live after phase k, and which ids later phases touch.
std::set<uint64_t> live_after(int phase) {
  std::set<uint64_t> live;
  for (uint64_t i : range(0, 1000)) live.insert(i);
  if (phase >= 1)
    for (uint64_t i : range(1000, 3000)) live.insert(i);
  if (phase >= 2) {
    for (uint64_t i : range(0, 1000, 2)) live.erase(i);
    for (uint64_t i : range(3000, 3500)) live.insert(i);
  }
  if (phase >= 4) {
    for (uint64_t i : range(3500, 3600)) live.insert(i);
    for (uint64_t i : range(1000, 1100)) live.erase(i);
    for (uint64_t i : range(3590, 3600)) live.erase(i);  // delete_where
  }
  return live;
}

CreateOptions crash_store_options() {
  CreateOptions o;
  o.dim = kCrashDim;
  o.index.m = 6;  // small, so the many crashed children stay quick under TSan
  o.index.ef_construction = 24;
  return o;
}

// The record's own vector finds it at distance 0, and every hit is live.
Status search_finds_itself(const Store& store, uint64_t id) {
  Result<std::vector<SearchHit>> hits = store.search(make_record(id, kCrashDim).vector, {.k = 5, .ef = 32});
  VSTORE_RETURN_IF_ERROR(hits.status());
  if (hits->empty() || (*hits)[0].distance != 0.0f) return Status::NotFound(fmt::format("search for id {}'s vector misses it", id));
  for (const SearchHit& h : *hits)
    if (!store.contains(h.id)) return Status::Corrupt(fmt::format("search returned id {}, which is not in the store", h.id));
  return Status::Ok();
}

int workload(const std::string& dir, const std::string& spare_dir) {
  auto say = [](int phase) {
    fmt::print("SYNCED {}\n", phase);
    std::fflush(stdout);
  };
  auto check = [](const Status& st, const char* what) {
    if (!st.ok()) {
      fmt::print("FAILED {}: {}\n", what, st.to_string());
      std::fflush(stdout);
      std::_Exit(3);
    }
  };
  {
    Result<std::unique_ptr<Store>> spare = Store::create(spare_dir, crash_store_options());
    check(spare.status(), "create spare");
    check((*spare)->add(make_records(0, 10, kCrashDim)).ok() ? Status::Ok() : Status::Io("add spare"), "add spare");
    check((*spare)->close(), "close spare");
  }
  Result<std::unique_ptr<Store>> s = Store::open(dir);
  check(s.status(), "open");
  Store& store = **s;
  check(store.add(make_records(1000, 2000, kCrashDim)), "add B");
  check(store.sync(), "sync 1");
  say(1);
  check(store.remove(range(0, 1000, 2)).status(), "remove C");
  check(store.add(make_records(3000, 500, kCrashDim)), "add D");
  check(store.sync(), "sync 2");
  say(2);
  check(search_finds_itself(store, 3001), "search after D");
  check(store.compact(), "compact");
  say(3);
  check(store.add(make_records(3500, 100, kCrashDim)), "add E");
  check(store.remove(range(1000, 1100)).status(), "remove F");
  {
    std::string where = "file_path IN (";
    for (uint64_t i = 3590; i < 3600; ++i) where += fmt::format("{}'src/file_{}.py'", i == 3590 ? "" : ", ", i);
    Result<Filter> f = Filter::parse(where + ")");
    check(f.status(), "parse G");
    Result<uint64_t> n = store.delete_where(*f);
    check(n.status(), "delete G");
    if (*n != 10) check(Status::Corrupt(fmt::format("delete_where removed {}", *n)), "delete G count");
  }
  check(search_finds_itself(store, 3550), "search after E");
  check(store.sync(), "sync 4");
  say(4);
  check(store.close(), "close");
  return 0;
}

}  // namespace

void prepare_crash_store(const std::string& dir) {
  auto s = std::move(Store::create(dir, crash_store_options())).value();
  if (!s->add(make_records(0, 1000, kCrashDim)).ok() || !s->close().ok()) std::abort();
  write_file(dir + "/vectors-000099.bin", "left by an interrupted compaction");
  // As if the last session crashed mid-link: the child's open rebuilds the
  // graph, so that the rebuild's sites are on the path too.
  std::string graph = read_file(dir + "/graph-000001.bin");
  graph[internal::kDirtyOffset] = 1;
  write_file(dir + "/graph-000001.bin", graph);
}

ChildResult run_crash_workload(const std::string& dir, const std::string& spare_dir, const std::string& failpoints,
                               const std::string& regressions, int* last_synced) {
  ChildResult r = run_in_child([&] {
    if (!set_regressions(regressions).ok()) return 10;
    Status st = configure_failpoints(failpoints);
    if (!st.ok()) {
      fmt::print("FAILED configure: {}\n", st.to_string());
      return 11;
    }
    return workload(dir, spare_dir);
  });
  *last_synced = 0;
  size_t pos = 0;
  while ((pos = r.output.find("SYNCED ", pos)) != std::string::npos) {
    *last_synced = r.output[pos + 7] - '0';
    pos += 7;
  }
  return r;
}

std::string check_after_crash(const std::string& dir, int synced) {
  Result<std::unique_ptr<Store>> s = Store::open(dir);
  if (!s.ok()) return "reopen failed: " + s.status().to_string();
  Store& store = **s;
  std::set<uint64_t> durable = live_after(synced);
  std::set<uint64_t> final_state = live_after(4);
  // Ids whose state may differ from `durable`: those a later phase adds or removes.
  std::set<uint64_t> in_flux;
  for (int later = synced + 1; later <= 4; ++later) {
    std::set<uint64_t> before = live_after(later - 1), after = live_after(later);
    for (uint64_t id : before)
      if (!after.count(id)) in_flux.insert(id);
    for (uint64_t id : after)
      if (!before.count(id)) in_flux.insert(id);
  }
  uint64_t present = 0;
  for (uint64_t id = 0; id < 3700; ++id) {
    Result<Record> got = store.get(id);
    bool expect_present = durable.count(id) != 0;
    bool may_differ = in_flux.count(id) != 0;
    if (got.ok()) {
      ++present;
      if (!(*got == make_record(id, kCrashDim))) return fmt::format("id {} is torn: its data differs from what was added", id);
      if (!expect_present && !may_differ) return fmt::format("id {} is present but was never durably added or was durably removed", id);
    } else if (got.status().code() == Code::not_found) {
      if (expect_present && !may_differ) return fmt::format("id {} was synced (phase {}) but is missing", id, synced);
    } else {
      return fmt::format("get({}) failed: {}", id, got.status().to_string());
    }
  }
  if (store.count() != present) return fmt::format("count() is {} but {} records are present", store.count(), present);
  // The index: searchable, only live ids, and it finds the durable records.
  int missed = 0, probes = 0;
  for (uint64_t id : durable) {
    if (in_flux.count(id) || id % 37 != 0) continue;
    ++probes;
    Status found = search_finds_itself(store, id);
    if (found.code() == Code::not_found) ++missed;
    else if (!found.ok()) return "search: " + found.to_string();
  }
  if (missed * 20 > probes) return fmt::format("search missed {} of {} durable records (by their own vectors)", missed, probes);
  Status st = store.add({make_record(9000, kCrashDim)});
  if (st.ok()) st = store.sync();
  if (!st.ok()) return "the store is not writable after the crash: " + st.to_string();
  if (!store.close().ok()) return "close failed";
  FsckReport report = Store::fsck(dir);
  if (!report.ok()) return "fsck: " + report.problems[0];
  return "";
}

}  // namespace vstore::testing
