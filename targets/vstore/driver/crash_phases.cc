#include "crash_phases.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "session.h"
#include "vstore/failpoint.h"
#include "vstore/filter.h"
#include "vstore/search.h"
#include "vstore/store.h"
#include "vstore/testing.h"

namespace crashgate::vstore_driver {
namespace {

using vstore::Record;
using vstore::Status;

struct PhaseIds {
  std::vector<uint64_t> added;
  std::vector<uint64_t> removed;
};

std::vector<uint64_t> ids_between(uint64_t first, uint64_t end) {
  std::vector<uint64_t> out;
  for (uint64_t i = first; i < end; ++i) out.push_back(i);
  return out;
}

// What phase `p` adds and removes (delete_where's records count as removed).
PhaseIds phase_ids(int p, const std::set<uint64_t>& before, uint64_t first) {
  PhaseIds ids;
  if (p == 1) ids.added = ids_between(first, first + 1500);
  if (p == 2) {
    for (uint64_t id : before)
      if (id % 2 == 0 && id < first) ids.removed.push_back(id);
    ids.added = ids_between(first + 1500, first + 2000);
  }
  if (p == 4) {
    ids.added = ids_between(first + 2000, first + 2100);
    ids.removed = ids_between(first, first + 100);
    for (uint64_t id = first + 2090; id < first + 2100; ++id) ids.removed.push_back(id);
  }
  return ids;
}

}  // namespace

std::set<uint64_t> live_after_phase(int phase, const std::set<uint64_t>& before, uint64_t first) {
  std::set<uint64_t> live = before;
  for (int p = 1; p <= phase; ++p) {
    PhaseIds ids = phase_ids(p, before, first);
    live.insert(ids.added.begin(), ids.added.end());
    for (uint64_t id : ids.removed) live.erase(id);
  }
  return live;
}

std::set<uint64_t> in_flux_after_phase(int phase, const std::set<uint64_t>& before, uint64_t first) {
  std::set<uint64_t> flux;
  for (int p = phase + 1; p <= kLastPhase; ++p) {
    PhaseIds ids = phase_ids(p, before, first);
    flux.insert(ids.added.begin(), ids.added.end());
    flux.insert(ids.removed.begin(), ids.removed.end());
  }
  return flux;
}

int run_phased_writes(const std::string& store_dir, const std::string& spare_dir, const std::string& report_path,
                      const std::string& failpoints, const std::string& site, uint64_t first, uint64_t seed) {
  std::ofstream report(report_path, std::ios::app);
  auto say = [&](const std::string& line) { report << line << std::endl; };
  auto fired = [&] {
    size_t n = 0;
    const vstore::FailSiteInfo* t = vstore::failpoint_table(&n);
    for (size_t i = 0; i < n; ++i)
      if (t[i].name == site) return vstore::failpoint_hits(t[i].site);
    return uint64_t{0};
  };
  // Stops at the first engine error: the store must then reopen with every
  // synced record, which is the first process's to check.
  auto stop = [&](const Status& st) {
    say(fmt::format("error {} {}", vstore::code_name(st.code()), st.message()));
    say(fmt::format("fired {}", fired()));
    return 0;
  };
  auto wrong = [&](const std::string& what) {
    say("error wrong-result " + what);
    say(fmt::format("fired {}", fired()));
    return 0;
  };

  // As an interrupted session leaves a store: an orphaned generation's file,
  // and a graph whose dirty mark says links were mid-write.
  std::ofstream(store_dir + "/vectors-000099.bin") << "left by an interrupted compaction";
  // A store without an index has no graph to mark.
  (void)vstore::testing::mark_graph_dirty(store_dir);

  Status st = vstore::configure_failpoints(failpoints);
  if (!st.ok()) {
    fmt::print(stderr, "second process: failpoints '{}': {}\n", failpoints, st.to_string());
    return 2;
  }
  {
    vstore::CreateOptions o;
    o.dim = 8;
    vstore::Result<std::unique_ptr<vstore::Store>> spare = vstore::Store::create(spare_dir, o);
    if (!spare.ok()) return stop(spare.status());
    std::vector<Record> few;
    for (uint64_t id = 0; id < 10; ++id) few.push_back(record_for(id, 8, seed));
    if (!(st = (*spare)->add(few)).ok() || !(st = (*spare)->close()).ok()) return stop(st);
  }
  vstore::Result<std::unique_ptr<vstore::Store>> opened = vstore::Store::open(store_dir);
  if (!opened.ok()) return stop(opened.status());
  vstore::Store& store = **opened;
  uint32_t dim = store.dim();
  std::set<uint64_t> before;
  if (!(st = store.scan([&](const vstore::RecordRef& r) {
          before.insert(r.id());
          return true;
        })).ok())
    return stop(st);
  auto add = [&](const std::vector<uint64_t>& ids) {
    std::vector<Record> batch;
    for (uint64_t id : ids) batch.push_back(record_for(id, dim, seed));
    return store.add(batch);
  };
  for (int p = 1; p <= kLastPhase; ++p) {
    PhaseIds ids = phase_ids(p, before, first);
    if (p == 3) {
      if (!(st = store.compact()).ok()) return stop(st);
    } else if (p == 4) {
      if (!(st = add(ids.added)).ok()) return stop(st);
      if (vstore::Result<uint64_t> n = store.remove(ids_between(first, first + 100)); !n.ok()) return stop(n.status());
      std::string where = "file_path IN (";
      for (uint64_t id = first + 2090; id < first + 2100; ++id)
        where += fmt::format("{}'{}'", id == first + 2090 ? "" : ", ", record_for(id, dim, seed).attributes[0].value);
      vstore::Result<vstore::Filter> f = vstore::Filter::parse(where + ")");
      if (!f.ok()) return stop(f.status());
      vstore::Result<uint64_t> n = store.delete_where(*f);
      if (!n.ok()) return stop(n.status());
      if (*n != 10) return wrong(fmt::format("delete_where removed {} records, not 10", *n));
      if (!(st = store.sync()).ok()) return stop(st);
    } else {
      if (!ids.removed.empty())
        if (vstore::Result<uint64_t> n = store.remove(ids.removed); !n.ok()) return stop(n.status());
      if (!(st = add(ids.added)).ok()) return stop(st);
      if (!(st = store.sync()).ok()) return stop(st);
    }
    say(fmt::format("phase {}", p));
    if (p == 2) {
      // The index finds what phase 2 added (a search walks the links just written).
      Record probe = record_for(first + 1501, dim, seed);
      vstore::Result<std::vector<vstore::SearchHit>> hits = store.search(probe.vector, {.k = 3, .ef = 32});
      if (!hits.ok()) return stop(hits.status());
      if (hits->empty() || (*hits)[0].id != probe.id)
        return wrong(fmt::format("search for record {}'s own vector does not find it first", probe.id));
    }
  }
  if (!(st = store.close()).ok()) return stop(st);
  say(fmt::format("fired {}", fired()));
  say("done");
  return 0;
}

}  // namespace crashgate::vstore_driver
