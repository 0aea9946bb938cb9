// The store's contract, one behaviour a test.
#include "vstore/store.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using testing::make_record;
using testing::make_records;
using testing::ScratchDir;

std::unique_ptr<Store> create_store(const std::string& dir, uint32_t dim = 8, Metric metric = Metric::l2) {
  CreateOptions o;
  o.dim = dim;
  o.metric = metric;
  o.index.m = 6;  // a small index: these tests are about storage, and run under TSan too
  o.index.ef_construction = 24;
  Result<std::unique_ptr<Store>> s = Store::create(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(Store, AddedRecordsComeBackExactly) {
  ScratchDir d;
  auto s = create_store(d / "s");
  std::vector<Record> recs = make_records(100, 50, 8);
  ASSERT_TRUE(s->add(recs).ok());
  EXPECT_EQ(s->count(), 50u);
  for (const Record& r : recs) {
    Result<Record> got = s->get(r.id);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(*got, r);
  }
  EXPECT_EQ(s->get(99).status().code(), Code::not_found);
}

TEST(Store, RecordsSurviveCloseAndReopen) {
  ScratchDir d;
  std::vector<Record> recs = make_records(0, 3000, 16);
  {
    auto s = create_store(d / "s", 16, Metric::cosine);
    ASSERT_TRUE(s->add(recs).ok());
    ASSERT_TRUE(s->close().ok());
  }
  Result<std::unique_ptr<Store>> s = Store::open(d / "s");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)->count(), 3000u);
  EXPECT_EQ((*s)->dim(), 16u);
  EXPECT_EQ((*s)->metric(), Metric::cosine);
  for (uint64_t id : {0, 1, 1023, 1024, 2999}) EXPECT_EQ(*(*s)->get(id), recs[id]);
}

// An interrupted compaction or commit leaves files of another generation and
// *.tmp files; the next writer removes those and nothing else.
TEST(Store, WriterOpenRemovesLeftoverStoreFilesOnly) {
  ScratchDir d;
  std::vector<Record> recs = make_records(0, 20, 8);
  {
    auto s = create_store(d / "s");
    ASSERT_TRUE(s->add(recs).ok());
    ASSERT_TRUE(s->close().ok());
  }
  const std::string dir = d / "s";
  for (const char* stray : {"vectors-000007.bin", "graph-000001.bin.tmp", "notes.txt"})
    std::ofstream(dir + "/" + stray) << "left behind";
  {
    Result<std::unique_ptr<Store>> reader = Store::open(dir, {.read_only = true});
    ASSERT_TRUE(reader.ok()) << reader.status().to_string();
    EXPECT_TRUE(std::filesystem::exists(dir + "/vectors-000007.bin"));  // a reader changes nothing
  }
  Result<std::unique_ptr<Store>> s = Store::open(dir);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(dir + "/vectors-000007.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/graph-000001.bin.tmp"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.txt"));
  for (const char* current : {"vectors-000001.bin", "attrs-000001.bin", "ids-000001.bin", "graph-000001.bin", "graph-upper-000001.bin"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + current)) << current;
  EXPECT_EQ((*s)->count(), 20u);
  for (const Record& r : recs) EXPECT_EQ(*(*s)->get(r.id), r);
}

TEST(Store, RemovedRecordsAreGoneAndCountDrops) {
  ScratchDir d;
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->add(make_records(0, 10, 8)).ok());
  std::vector<uint64_t> ids = {2, 4, 4, 77};
  Result<uint64_t> n = s->remove(ids);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u) << "duplicates and missing ids are not counted";
  EXPECT_EQ(s->count(), 8u);
  EXPECT_FALSE(s->contains(2));
  EXPECT_TRUE(s->contains(3));
  ASSERT_TRUE(s->close().ok());
  auto reopened = Store::open(d / "s");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->count(), 8u);
  EXPECT_EQ((*reopened)->get(4).status().code(), Code::not_found);
}

TEST(Store, AnIdCanBeAddedAgainAfterRemoval) {
  ScratchDir d;
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->add({make_record(7, 8)}).ok());
  std::vector<uint64_t> seven = {7};
  ASSERT_EQ(*s->remove(seven), 1u);
  Record again = make_record(7, 8, /*salt=*/5);
  ASSERT_TRUE(s->add({again}).ok());
  EXPECT_EQ(*s->get(7), again);
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(*(*Store::open(d / "s"))->get(7), again);
}

TEST(Store, AddRejectsWrongDimensionDuplicatesAndOversizedAttributesWithoutWriting) {
  ScratchDir d;
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->add({make_record(1, 8)}).ok());
  Status wrong_dim = s->add({make_record(2, 8), make_record(3, 9)});
  EXPECT_EQ(wrong_dim.code(), Code::invalid_argument);
  EXPECT_NE(wrong_dim.message().find("dimension is 8"), std::string::npos) << wrong_dim.message();
  EXPECT_EQ(s->add({make_record(1, 8)}).code(), Code::invalid_argument) << "id 1 is already live";
  EXPECT_EQ(s->add({make_record(5, 8), make_record(5, 8)}).code(), Code::invalid_argument);
  Record big = make_record(6, 8);
  big.attributes.push_back({"blob", std::string(17 << 20, 'x')});
  EXPECT_EQ(s->add({big}).code(), Code::invalid_argument);
  EXPECT_EQ(s->count(), 1u) << "a rejected batch adds nothing";
  EXPECT_FALSE(s->contains(2));
}

TEST(Store, CreateRejectsBadDimensionAndExistingStores) {
  ScratchDir d;
  CreateOptions zero;
  EXPECT_EQ(Store::create(d / "z", zero).status().code(), Code::invalid_argument);
  CreateOptions huge;
  huge.dim = 65537;
  EXPECT_EQ(Store::create(d / "h", huge).status().code(), Code::invalid_argument);
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->close().ok());
  CreateOptions ok;
  ok.dim = 4;
  Status again = Store::create(d / "s", ok).status();
  EXPECT_EQ(again.code(), Code::invalid_argument);
  EXPECT_NE(again.message().find("already exists"), std::string::npos) << again.message();
}

TEST(Store, SecondWriterGetsBusyAtOnceButReadersMayOpen) {
  ScratchDir d;
  auto writer = create_store(d / "s");
  ASSERT_TRUE(writer->add(make_records(0, 5, 8)).ok());
  ASSERT_TRUE(writer->sync().ok());
  Result<std::unique_ptr<Store>> second = Store::open(d / "s");
  EXPECT_EQ(second.status().code(), Code::busy) << second.status().to_string();
  OpenOptions ro;
  ro.read_only = true;
  Result<std::unique_ptr<Store>> reader = Store::open(d / "s", ro);
  ASSERT_TRUE(reader.ok()) << reader.status().to_string();
  EXPECT_EQ((*reader)->count(), 5u);
  EXPECT_EQ((*reader)->add({make_record(9, 8)}).code(), Code::invalid_argument) << "read-only";
  ASSERT_TRUE(writer->close().ok());
  EXPECT_TRUE(Store::open(d / "s").ok()) << "the lock is released on close";
}

TEST(Store, ReaderKeepsItsGenerationAcrossCompaction) {
  ScratchDir d;
  auto writer = create_store(d / "s");
  std::vector<Record> recs = make_records(0, 2000, 8);
  ASSERT_TRUE(writer->add(recs).ok());
  ASSERT_TRUE(writer->sync().ok());
  OpenOptions ro;
  ro.read_only = true;
  auto reader = std::move(Store::open(d / "s", ro)).value();
  std::vector<uint64_t> evens;
  for (uint64_t i = 0; i < 2000; i += 2) evens.push_back(i);
  ASSERT_EQ(*writer->remove(evens), 1000u);
  ASSERT_TRUE(writer->compact().ok());
  EXPECT_EQ(writer->count(), 1000u);
  EXPECT_EQ(writer->stats().generation, 2u);
  // The reader still reads its generation: the old files were unlinked, not
  // cut, so every record that was never removed is there, byte for byte.
  EXPECT_EQ(reader->count(), 2000u) << "count() is the reader's snapshot";
  for (uint64_t id = 1; id < 2000; id += 2) ASSERT_EQ(*reader->get(id), recs[id]) << id;
  auto fresh = std::move(Store::open(d / "s", ro)).value();
  EXPECT_EQ(fresh->count(), 1000u);
  EXPECT_FALSE(fresh->contains(2));
  EXPECT_EQ(*fresh->get(1999), recs[1999]);
}

TEST(Store, ViewStaysValidWhileTheStoreGrowsAndCompacts) {
  ScratchDir d;
  auto s = create_store(d / "s");
  Record first = make_record(1, 8);
  ASSERT_TRUE(s->add({first}).ok());
  Result<RecordView> v = s->view(1);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(s->add(make_records(2, 20000, 8)).ok());  // several grows: new mappings
  ASSERT_TRUE(s->compact().ok());                        // new generation, old files unlinked
  std::vector<float> seen(v->vector().begin(), v->vector().end());
  EXPECT_EQ(seen, first.vector);
  EXPECT_EQ(v->id(), 1u);
  EXPECT_EQ(*v->attributes(), first.attributes);
}

TEST(Store, CompactionKeepsEveryLiveRecordAndReclaimsTheRest) {
  ScratchDir d;
  auto s = create_store(d / "s", 4);
  std::vector<Record> recs = make_records(0, 5000, 4);
  ASSERT_TRUE(s->add(recs).ok());
  std::vector<uint64_t> gone;
  for (uint64_t i = 0; i < 5000; i += 3) gone.push_back(i);
  ASSERT_TRUE(s->remove(gone).ok());
  ASSERT_TRUE(s->compact().ok());
  StoreStats st = s->stats();
  EXPECT_EQ(st.slots, st.live);
  ASSERT_TRUE(s->close().ok());
  auto r = std::move(Store::open(d / "s")).value();
  for (const Record& rec : recs) {
    if (rec.id % 3 == 0)
      EXPECT_FALSE(r->contains(rec.id));
    else
      EXPECT_EQ(*r->get(rec.id), rec);
  }
  FsckReport report = Store::fsck(d / "s");
  EXPECT_TRUE(report.ok()) << report.problems[0];
  EXPECT_EQ(testing::find_file(d / "s", "vectors-000001"), "") << "the old generation is unlinked";
}

TEST(Store, ScanVisitsEveryLiveRecordWithItsAttributes) {
  ScratchDir d;
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->add(make_records(0, 100, 8)).ok());
  std::vector<uint64_t> two = {10, 20};
  ASSERT_TRUE(s->remove(two).ok());
  uint64_t seen = 0;
  ASSERT_TRUE(s->scan([&](const RecordRef& r) {
                 EXPECT_NE(r.id(), 10u);
                 EXPECT_EQ(r.attribute("file_path").value_or(""), fmt::format("src/file_{}.py", r.id()));
                 EXPECT_FALSE(r.attribute("nope").has_value());
                 ++seen;
                 return true;
               }).ok());
  EXPECT_EQ(seen, 98u);
}

TEST(Store, FsckOfAHealthyStoreFindsNothing) {
  ScratchDir d;
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->add(make_records(0, 3000, 8)).ok());
  std::vector<uint64_t> ids = {5, 6};
  ASSERT_TRUE(s->remove(ids).ok());
  ASSERT_TRUE(s->sync().ok());
  FsckReport r = Store::fsck(d / "s");
  EXPECT_TRUE(r.ok()) << r.problems[0];
  EXPECT_EQ(r.records_checked, 2998u) << "removed records are tombstoned once synced";
}

TEST(Store, OpeningWhatIsNotAStoreIsNotFound) {
  ScratchDir d;
  EXPECT_EQ(Store::open(d / "missing").status().code(), Code::not_found);
  EXPECT_EQ(Store::open(d.path()).status().code(), Code::not_found);
}

TEST(Store, ClosedStoreRefusesWrites) {
  ScratchDir d;
  auto s = create_store(d / "s");
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(s->add({make_record(1, 8)}).code(), Code::invalid_argument);
  EXPECT_EQ(s->sync().code(), Code::invalid_argument);
}

}  // namespace
}  // namespace vstore
