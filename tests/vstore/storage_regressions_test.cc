// Each storage regression switch, turned on in a child, misbehaves as its
// field report says; the same steps on the hardened engine do not. These are
// what prove that crashgate's scenarios have something real to catch.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "storage/format.h"
#include "storage/store_impl.h"
#include "vstore/failpoint.h"
#include "vstore/regression.h"
#include "vstore/store.h"
#include "vstore/support/child_process.h"
#include "vstore/support/crash_workload.h"
#include "vstore/support/scratch.h"
#include "vstore/support/sanitizers.h"

namespace vstore {
namespace {

using testing::ChildResult;
using testing::make_records;
using testing::run_in_child;
using testing::ScratchDir;

#define REQUIRE_SWITCHES()                                                                   \
  if (!regressions_compiled_in()) GTEST_SKIP() << "regression switches are not compiled in"; \
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled in"

// Kind of death a plain build shows, and what TSan shows instead for races.
bool died_of(const ChildResult& r, int sig) { return !r.exited && r.signal == sig; }
// Died of `sig`, or ASan caught it first and reported it as `asan_name`
// ("BUS", "SEGV"), or a sanitizer reported the bad access on the way there.
bool crashed(const ChildResult& r, int sig, const char* asan_name) {
  return died_of(r, sig) || r.output.find(fmt::format("Sanitizer: {}", asan_name)) != std::string::npos ||
         r.output.find("ERROR: AddressSanitizer") != std::string::npos ||
         r.output.find("runtime error:") != std::string::npos;  // UBSan, e.g. a pointer that wraps
}
bool tsan_reported(const ChildResult& r) { return r.output.find("ThreadSanitizer") != std::string::npos; }

std::string make_store(const ScratchDir& d, uint64_t n, uint32_t dim = 8) {
  std::string dir = d / "s";
  CreateOptions o;
  o.dim = dim;
  o.index.enabled = false;  // storage regressions; the index has its own (hnsw_regressions_test.cc)
  auto s = std::move(Store::create(dir, o)).value();
  EXPECT_TRUE(s->add(make_records(0, n, dim)).ok());
  EXPECT_TRUE(s->close().ok());
  return dir;
}

// Runs body with the given switches on (they are off when `regressions` is "").
ChildResult with_switch(const char* regressions, const std::function<int()>& body, int timeout_seconds = 120) {
  return run_in_child(
      [&] {
        if (!set_regressions(regressions).ok()) return 90;
        return body();
      },
      timeout_seconds);
}

TEST(StorageRegression, UnvalidatedHeaderSigbusesInCountOnATruncatedFile) {
  REQUIRE_SWITCHES();
  ScratchDir d;
  std::string dir = make_store(d, 100);
  std::filesystem::resize_file(testing::find_file(dir, "vectors-"), 0);
  auto count = [&] {
    Result<std::unique_ptr<Store>> s = Store::open(dir, {.read_only = true});
    if (!s.ok()) return s.status().code() == Code::corrupt ? 3 : 1;
    fmt::print("count {}\n", (*s)->count());
    return 0;
  };
  ChildResult on = with_switch("unvalidated-header", count);
  EXPECT_TRUE(crashed(on, SIGBUS, "BUS")) << on.describe();
  ChildResult off = with_switch("", count);
  EXPECT_TRUE(off.exited && off.exit_code == 3) << "hardened: corrupt. " << off.describe();
}

TEST(StorageRegression, StaleSizeRejectsRecordsOfAFreshStore) {
  REQUIRE_SWITCHES();
  ScratchDir d;
  auto steps = [&] {
    CreateOptions o;
    o.dim = 8;
    o.index.enabled = false;  // storage regressions; the index has its own (hnsw_regressions_test.cc)
    auto s = std::move(Store::create(d / "s", o)).value();
    if (!s->add(make_records(0, 10, 8)).ok()) return 2;
    Result<Record> r = s->get(3);
    fmt::print("get: {}\n", r.status().to_string());
    return r.ok() ? 0 : 1;
  };
  ChildResult on = with_switch("stale-size", steps);
  EXPECT_TRUE(on.exited && on.exit_code == 1) << "spurious errors on valid records: " << on.describe();
  std::filesystem::remove_all(d / "s");
  ChildResult off = with_switch("", steps);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

TEST(StorageRegression, OverflowingBoundsCheckReadsWildMemory) {
  REQUIRE_SWITCHES();
  ScratchDir d;
  std::string dir = make_store(d, 20);
  // Slot 7's attributes at 2^64 - 2 GiB, 2 GiB + 256 long: offset + len wraps
  // to 256 and passes the check; the read lands 2 GiB before the mapping.
  std::string vectors = testing::find_file(dir, "vectors-");
  std::string bytes = testing::read_file(vectors);
  uint64_t slot_off = internal::kDataStart + 7 * internal::slot_size_for(8);
  uint64_t wild = uint64_t{0} - (uint64_t{1} << 31);
  uint32_t len = (uint32_t{1} << 31) + 0x100;
  std::memcpy(bytes.data() + slot_off + offsetof(internal::SlotHeader, attr_offset), &wild, 8);
  std::memcpy(bytes.data() + slot_off + offsetof(internal::SlotHeader, attr_len), &len, 4);
  testing::write_file(vectors, bytes);
  auto get7 = [&] {
    auto s = std::move(Store::open(dir, {.read_only = true})).value();
    Result<Record> r = s->get(7);
    fmt::print("get: {}\n", r.status().to_string());
    return r.status().code() == Code::corrupt ? 3 : 0;
  };
  ChildResult on = with_switch("overflowing-bounds-check", get7);
  EXPECT_TRUE(crashed(on, SIGSEGV, "SEGV")) << on.describe();
  ChildResult off = with_switch("", get7);
  EXPECT_TRUE(off.exited && off.exit_code == 3) << off.describe();
}

TEST(StorageRegression, UncheckedMappingDereferencesAFailedMmap) {
  REQUIRE_SWITCHES();
  ScratchDir d;
  std::string dir = make_store(d, 20);
  auto open = [&] {
    if (!configure_failpoints("mapped_file.map.mmap=error(ENOMEM)").ok()) return 91;
    Result<std::unique_ptr<Store>> s = Store::open(dir, {.read_only = true});
    fmt::print("open: {}\n", s.status().to_string());
    return s.status().code() == Code::resource_exhausted ? 6 : 0;
  };
  ChildResult on = with_switch("unchecked-mapping", open);
  EXPECT_TRUE(crashed(on, SIGSEGV, "SEGV")) << on.describe();
  ChildResult off = with_switch("", open);
  EXPECT_TRUE(off.exited && off.exit_code == 6) << "hardened: resource-exhausted. " << off.describe();
}

// A reader loops over gets, widened by a delay between lookup and read, while
// the writer grows the file.
int readers_during_growth() {
  ScratchDir d;
  CreateOptions o;
  o.dim = 8;
  o.index.enabled = false;  // storage regressions; the index has its own (hnsw_regressions_test.cc)
  auto s = std::move(Store::create(d / "s", o)).value();
  if (!s->add(make_records(0, 100, 8)).ok()) return 2;
  if (!configure_failpoints("store.read.after_lookup=delay(2)").ok()) return 91;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop.load()) {
      Result<Record> r = s->get(50);
      if (!r.ok() || r->id != 50) bad.fetch_add(1);
    }
  });
  for (uint64_t i = 0; i < 40; ++i) {
    if (!s->add(make_records(1000 + i * 2000, 2000, 8)).ok()) bad.fetch_add(1);
  }
  stop = true;
  reader.join();
  return bad.load() == 0 ? 0 : 1;
}

TEST(StorageRegression, UnlockedGrowUnmapsUnderReaders) {
  REQUIRE_SWITCHES();
  ChildResult on = with_switch("unlocked-grow", readers_during_growth);
  if (testing::under_tsan())
    EXPECT_TRUE(tsan_reported(on) || died_of(on, SIGSEGV)) << on.describe();
  else
    EXPECT_TRUE(crashed(on, SIGSEGV, "SEGV") || crashed(on, SIGBUS, "BUS")) << on.describe();
  ChildResult off = with_switch("", readers_during_growth);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

TEST(StorageRegression, ViewOutlivesGuardReadsAnUnmappedPage) {
  REQUIRE_SWITCHES();
  auto steps = [] {
    ScratchDir d;
    CreateOptions o;
    o.dim = 8;
    o.index.enabled = false;  // storage regressions; the index has its own (hnsw_regressions_test.cc)
    auto s = std::move(Store::create(d / "s", o)).value();
    if (!s->add(make_records(0, 10, 8)).ok()) return 2;
    Result<RecordView> v = s->view(3);
    if (!v.ok()) return 3;
    if (!s->add(make_records(100, 50000, 8)).ok()) return 4;  // grows: the old mapping goes
    // Is the view's page still mapped? (mincore fails with ENOMEM where nothing is.)
    uintptr_t page = reinterpret_cast<uintptr_t>(v->vector().data()) & ~uintptr_t{4095};
    unsigned char resident;
    if (::mincore(reinterpret_cast<void*>(page), 4096, &resident) != 0 && errno == ENOMEM) {
      fmt::print("the view points at an unmapped page\n");
      return 5;
    }
    std::vector<float> seen(v->vector().begin(), v->vector().end());
    fmt::print("read {}\n", seen[0]);
    return seen == testing::make_record(3, 8).vector ? 0 : 1;  // else: someone else's memory
  };
  ChildResult on = with_switch("view-outlives-guard", steps);
  EXPECT_TRUE(crashed(on, SIGSEGV, "SEGV") || (on.exited && (on.exit_code == 5 || on.exit_code == 1))) << on.describe();
  ChildResult off = with_switch("", steps);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

TEST(StorageRegression, InPlaceCompactionSigbusesAnotherReader) {
  REQUIRE_SWITCHES();
  auto steps = [] {
    ScratchDir d;
    CreateOptions o;
    o.dim = 8;
    o.index.enabled = false;  // storage regressions; the index has its own (hnsw_regressions_test.cc)
    auto w = std::move(Store::create(d / "s", o)).value();
    if (!w->add(make_records(0, 5000, 8)).ok() || !w->sync().ok()) return 2;
    auto reader = std::move(Store::open(d / "s", {.read_only = true})).value();
    std::vector<uint64_t> low;
    for (uint64_t i = 0; i < 4000; ++i) low.push_back(i);
    if (!w->remove(low).ok() || !w->compact().ok()) return 3;
    // The reader walks its generation; its later slots now lie past the cut file's end.
    uint64_t seen = 0;
    Status st = reader->scan([&](const RecordRef&) {
      ++seen;
      return true;
    });
    fmt::print("reader scan: {} ({} records)\n", st.to_string(), seen);
    return st.ok() ? 0 : 1;
  };
  ChildResult on = with_switch("in-place-compaction", steps);
  EXPECT_TRUE(crashed(on, SIGBUS, "BUS")) << on.describe();
  ChildResult off = with_switch("", steps);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

TEST(StorageRegression, Offset32CorruptsRecordsCompactedPast4GiB) {
  REQUIRE_SWITCHES();
  if (testing::under_tsan()) GTEST_SKIP() << "writes 8 GiB; the asan and debug builds cover it";
  // 16,400 records of dimension 65,536 (256 KiB each) are 4.1 GiB of live data.
  auto steps = [] {
    ScratchDir d;
    CreateOptions o;
    o.dim = 65536;
    o.index.enabled = false;  // about offsets, not the index: linking 4 GiB of vectors would take hours under ASan
    auto s = std::move(Store::create(d / "s", o)).value();
    const uint64_t n = 16400;
    for (uint64_t first = 0; first < n; first += 200) {
      std::vector<Record> batch;
      for (uint64_t id = first; id < std::min(n, first + 200); ++id) {
        Record r;
        r.id = id;
        r.vector.assign(65536, static_cast<float>(id));
        batch.push_back(std::move(r));
      }
      if (!s->add(batch).ok()) return 2;
    }
    if (!s->remove({0}).ok() || !s->compact().ok()) return 3;
    for (uint64_t id : {1u, 8000u, 16399u}) {
      Result<Record> r = s->get(id);
      if (!r.ok() || r->vector[0] != static_cast<float>(id)) {
        fmt::print("get({}): {}\n", id, r.status().to_string());
        return 1;
      }
    }
    return 0;
  };
  // Each child writes 8 GiB; under ASan on a loaded 2-core machine one took
  // over 120 s, so the hang guard here is looser (it is no speed target).
  ChildResult on = with_switch("offset32", steps, 400);
  EXPECT_TRUE(on.exited && on.exit_code == 1) << "records past 4 GiB come back wrong: " << on.describe();
  ChildResult off = with_switch("", steps, 400);
  EXPECT_TRUE(off.exited && off.exit_code == 0) << off.describe();
}

TEST(StorageRegression, AckBeforeSyncLosesAcknowledgedRecordsInACrash) {
  REQUIRE_SWITCHES();
  auto run = [](const char* regressions) {
    ScratchDir d;
    testing::prepare_crash_store(d / "s");
    int synced = 0;
    // Crash in the first add after phase 1's sync returned (the spare store's add
    // and add B pass first).
    ChildResult child = testing::run_crash_workload(d / "s", d / "spare", "store.add.after_data=2*off->crash", regressions, &synced);
    EXPECT_TRUE(!child.exited && child.signal == SIGKILL) << child.describe();
    EXPECT_EQ(synced, 1);
    return testing::check_after_crash(d / "s", synced);
  };
  std::string on = run("ack-before-sync");
  EXPECT_NE(on, "") << "acknowledged records must be lost with the switch on";
  EXPECT_EQ(run(""), "");
}

}  // namespace
}  // namespace vstore
