// The kit's records and model: the data every driver adds, and verify's verdicts.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <map>

#include "crashgate/driver_records.h"

namespace crashgate::kit {
namespace {

using ::testing::HasSubstr;

// The values both kits must produce (crashgate_driver.py's test holds the same
// ones): a store written by one driver reads back the same through another.
TEST(DriverRecords, RecordForIsTheSharedSplitmixSequenceInThousandths) {
  RecordData r = record_for(7, 4, 42);
  EXPECT_EQ(r.id, 7u);
  EXPECT_EQ(r.vector, (std::vector<float>{-431 / 1000.0f, -825 / 1000.0f, 274 / 1000.0f, 950 / 1000.0f}));
  EXPECT_EQ(r.file_path, "src/mcp_vector_search/module_000000/file_00000007.py");
  EXPECT_EQ(record_for(0, 3, 0).vector, (std::vector<float>{-452 / 1000.0f, 757 / 1000.0f, -609 / 1000.0f}));
  EXPECT_EQ(file_path_for(1234567), "src/mcp_vector_search/module_001234/file_01234567.py");
}

TEST(DriverRecords, PastTheFirst1024DimensionsValuesRepeat) {
  RecordData r = record_for(3, 2100, 9);
  ASSERT_EQ(r.vector.size(), 2100u);
  EXPECT_EQ(r.vector[1024], r.vector[0]);
  EXPECT_EQ(r.vector[2099], r.vector[2099 % 1024]);
  EXPECT_NE(record_for(3, 8, 9).vector, record_for(3, 8, 10).vector) << "the seed decides the vector";
}

// A store that holds exactly what `contents` says.
Lookup store_of(const std::map<std::uint64_t, Found>& contents) {
  return [&contents](std::uint64_t id, std::optional<Found>& found) {
    if (auto it = contents.find(id); it != contents.end()) found = it->second;
    return StepResult::ok();
  };
}

Found as_found(const RecordData& r) { return Found{r.vector, r.file_path}; }

class RecordsVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    model.reset(4);
    std::vector<std::uint64_t> first = {0, 1, 2}, later = {10};
    model.added(first, 5);
    model.added(later, 6);
    std::vector<std::uint64_t> gone = {1};
    model.removed(gone);
    for (std::uint64_t id : {0, 2}) store[id] = as_found(record_for(id, 4, 5));
    store[10] = as_found(record_for(10, 4, 6));
  }
  Records model;
  std::map<std::uint64_t, Found> store;
};

TEST_F(RecordsVerify, AStoreHoldingExactlyTheLiveRecordsPasses) {
  EXPECT_TRUE(model.verify(store_of(store), 3).is_ok);
  EXPECT_TRUE(model.verify(store_of(store), std::nullopt).is_ok);
  EXPECT_EQ(model.live(), (std::set<std::uint64_t>{0, 2, 10}));
  EXPECT_EQ(model.next_id(), 11u);
}

TEST_F(RecordsVerify, AMissingRecordIsAWrongResultNamingIt) {
  store.erase(2);
  StepResult r = model.verify(store_of(store), std::nullopt);
  EXPECT_FALSE(r.is_ok);
  EXPECT_EQ(r.code, "wrong-result");
  EXPECT_THAT(r.message, HasSubstr("id 2 was added and not removed, and is missing"));
}

TEST_F(RecordsVerify, AVectorAddedWithAnotherSeedDiffers) {
  store[10] = as_found(record_for(10, 4, 5));  // 10 was added with seed 6
  StepResult r = model.verify(store_of(store), std::nullopt);
  EXPECT_EQ(r.code, "wrong-result");
  EXPECT_THAT(r.message, HasSubstr("id 10 differs at value 0"));
}

TEST_F(RecordsVerify, ATornVectorAndAWrongPathAreCaught) {
  store[0].vector.pop_back();
  EXPECT_THAT(model.verify(store_of(store), std::nullopt).message, HasSubstr("id 0 has 3 values, not 4"));
  store[0] = as_found(record_for(0, 4, 5));
  store[2].file_path = "src/elsewhere.py";
  EXPECT_THAT(model.verify(store_of(store), std::nullopt).message, HasSubstr("id 2 has file_path 'src/elsewhere.py'"));
  store[2].file_path.reset();  // an engine that keeps no attributes is judged on its vectors
  EXPECT_TRUE(model.verify(store_of(store), std::nullopt).is_ok);
}

TEST_F(RecordsVerify, ARemovedRecordThatCameBackAndAWrongCountAreCaught) {
  store[1] = as_found(record_for(1, 4, 5));
  EXPECT_THAT(model.verify(store_of(store), std::nullopt).message, HasSubstr("id 1 was removed and is still there"));
  store.erase(1);
  EXPECT_THAT(model.verify(store_of(store), 4).message, HasSubstr("the store counts 4 records; 3 were added and not removed"));
}

TEST_F(RecordsVerify, TheEnginesOwnErrorEndsTheCheckAsItIs) {
  StepResult r = model.verify([](std::uint64_t, std::optional<Found>&) { return StepResult::error("corrupt", "page 3: bad checksum"); },
                              std::nullopt);
  EXPECT_EQ(r.code, "corrupt");
  EXPECT_EQ(r.message, "page 3: bad checksum");
}

TEST(DriverRecords, ExpectedGivesTheLiveRecordAndNothingForOthers) {
  Records model;
  model.reset(3);
  std::vector<std::uint64_t> ids = {4};
  model.added(ids, 8);
  ASSERT_TRUE(model.expected(4));
  EXPECT_EQ(*model.expected(4), record_for(4, 3, 8));
  EXPECT_FALSE(model.expected(5));
  EXPECT_EQ(model.sample(1), ids);
}

// After an import the model knows none of the store's records: any id may be
// there, the count is the files' business, and what was added since is
// still checked exactly; a create makes the model whole again.
TEST(DriverRecords, AnImportedStoreIsCheckedOnlyForWhatWasAddedSince) {
  Records model;
  model.imported(4);
  EXPECT_FALSE(model.known());
  EXPECT_TRUE(model.may_hold(12345));
  EXPECT_FALSE(model.holds(12345));
  std::vector<std::uint64_t> ids = {100};
  model.added(ids, 5);
  std::map<std::uint64_t, Found> store = {{7, Found{{0.5f, 0.5f, 0.5f, 0.5f}, std::nullopt}}, {100, as_found(record_for(100, 4, 5))}};
  EXPECT_TRUE(model.verify(store_of(store), 2).is_ok);
  store[100] = as_found(record_for(100, 4, 6));
  EXPECT_THAT(model.verify(store_of(store), 2).message, HasSubstr("id 100 differs at value 0"));
  model.set_dim(8);
  EXPECT_EQ(model.dim(), 8u);
  model.reset(4);
  EXPECT_TRUE(model.known());
  EXPECT_FALSE(model.may_hold(7));
}

}  // namespace
}  // namespace crashgate::kit
