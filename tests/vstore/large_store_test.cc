// 64-bit offsets (a data section past 4 GiB, on sparse files) and running out
// of file descriptors, address space or disk.
#include <fcntl.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include "storage/store_impl.h"
#include "vstore/failpoint.h"
#include "vstore/store.h"
#include "vstore/testing.h"
#include "vstore/support/child_process.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using testing::make_record;
using testing::make_records;

TEST(LargeStore, RecordsPast4GiBReadBackAfterReopenCompactAndFsck) {
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 8192;  // 32 KiB slots: 131,073 slots pass 4 GiB
  auto s = std::move(Store::create(d / "s", o)).value();
  ASSERT_TRUE(s->add(make_records(0, 3, 8192)).ok());
  ASSERT_TRUE(vstore::testing::append_empty_slots(*s, 131100).ok());  // sparse: nothing written
  std::vector<Record> high = make_records(1000, 5, 8192);
  ASSERT_TRUE(s->add(high).ok());
  ASSERT_GT(s->stats().vectors_file_bytes, uint64_t{4} << 30);
  ASSERT_TRUE(s->close().ok());

  auto r = std::move(Store::open(d / "s")).value();
  EXPECT_EQ(r->count(), 8u);
  for (const Record& rec : high) EXPECT_EQ(*r->get(rec.id), rec);
  EXPECT_EQ(*r->get(1), make_record(1, 8192));
  FsckReport report = Store::fsck(d / "s");
  EXPECT_TRUE(report.ok()) << report.problems[0];
  ASSERT_TRUE(r->compact().ok());
  EXPECT_EQ(*r->get(1004), high[4]);
  EXPECT_LT(r->stats().vectors_file_bytes, uint64_t{1} << 20) << "compaction drops the empty slots";
}

TEST(LargeStore, OutOfFileDescriptorsIsResourceExhaustedAndTheStoreStillOpens) {
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 4;
  {
    auto s = std::move(Store::create(d / "s", o)).value();
    ASSERT_TRUE(s->add(make_records(0, 10, 4)).ok());
  }
  testing::ChildResult child = testing::run_in_child([&] {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int fd_floor = 0;
    while (::fcntl(fd_floor, F_GETFD) != -1) ++fd_floor;  // lowest free descriptor
    rl.rlim_cur = fd_floor + 2;  // room for LOCK and MANIFEST, not the data files
    setrlimit(RLIMIT_NOFILE, &rl);
    Result<std::unique_ptr<Store>> s = Store::open(d / "s");
    std::printf("%s\n", s.status().to_string().c_str());
    return s.status().code() == Code::resource_exhausted ? 0 : 1;
  });
  EXPECT_TRUE(child.exited && child.exit_code == 0) << child.describe();
  auto s = Store::open(d / "s");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)->count(), 10u);
}

TEST(LargeStore, DiskFullAndMmapFailureAreCleanErrorsAndSyncedDataSurvives) {
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled into this build";
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 4;
  auto s = std::move(Store::create(d / "s", o)).value();
  ASSERT_TRUE(s->add(make_records(0, 100, 4)).ok());
  ASSERT_TRUE(s->sync().ok());
  ASSERT_TRUE(configure_failpoints("mapped_file.append.pwrite=error(ENOSPC)").ok());
  Status full = s->add(make_records(100, 10, 4));
  EXPECT_EQ(full.code(), Code::io) << full.to_string();
  EXPECT_NE(full.message().find("No space left"), std::string::npos) << full.message();
  EXPECT_EQ(s->count(), 100u) << "a failed add adds nothing";
  ASSERT_TRUE(configure_failpoints("mapped_file.grow.mmap=error(ENOMEM)").ok());
  Status no_memory = s->add(make_records(100, 5000, 4));
  EXPECT_EQ(no_memory.code(), Code::resource_exhausted) << no_memory.to_string();
  ASSERT_TRUE(configure_failpoints("mapped_file.append.pwrite=short(7)").ok());
  EXPECT_EQ(s->add(make_records(100, 10, 4)).code(), Code::io);
  ASSERT_TRUE(configure_failpoints("").ok());
  ASSERT_TRUE(s->add(make_records(100, 5000, 4)).ok()) << "the store recovers once the fault is gone";
  ASSERT_TRUE(s->close().ok());
  auto r = std::move(Store::open(d / "s")).value();
  EXPECT_EQ(r->count(), 5100u);
  EXPECT_TRUE(Store::fsck(d / "s").ok());
}

}  // namespace
}  // namespace vstore

namespace vstore {
namespace {

TEST(LargeStore, AddressSpaceLimitIsResourceExhaustedAndTheStoreStillOpens) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  GTEST_SKIP() << "sanitizers reserve terabytes of shadow memory; an RLIMIT_AS cannot apply";
#endif
#endif
  testing::ScratchDir d;
  CreateOptions o;
  o.dim = 1024;
  o.index.enabled = false;  // the subject is the files' mappings, not the graph
  {
    auto s = std::move(Store::create(d / "s", o)).value();
    ASSERT_TRUE(s->add(make_records(0, 100, 1024)).ok());
  }
  testing::ChildResult child = testing::run_in_child([&] {
    auto s = std::move(Store::open(d / "s")).value();
    // The batch is made before the limit and only renumbered after it: the
    // test's own allocations must not be what runs out (an uncaught
    // bad_alloc in the child would fail the test, not the store).
    std::vector<Record> batch = make_records(1000, 1000, 1024);
    struct rlimit rl = {512ull << 20, 512ull << 20};  // 512 MiB: far below what growing to ~1 GiB maps
    setrlimit(RLIMIT_AS, &rl);
    Status st = Status::Ok();
    for (uint64_t i = 0; i < 400 && st.ok(); ++i) {
      for (size_t j = 0; j < batch.size(); ++j) batch[j].id = 1000 + i * 1000 + j;
      st = s->add(batch);
    }
    std::printf("%s\n", st.to_string().c_str());
    return st.code() == Code::resource_exhausted ? 0 : 1;
  });
  EXPECT_TRUE(child.exited && child.exit_code == 0) << child.describe();
  auto s = Store::open(d / "s");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_GE((*s)->count(), 100u);
  EXPECT_TRUE(Store::fsck(d / "s").ok());
}

}  // namespace
}  // namespace vstore
