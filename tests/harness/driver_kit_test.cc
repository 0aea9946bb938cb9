// The C++ driver kit: typed steps, the driver's own declarations checked,
// offset expressions from a layout, threads with the asked stack, the import
// op's copy and the keys the imported files also say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "crashgate/driver_kit.h"
#include "crashgate/invariant_window.h"
#include "crashgate/store_import.h"
#include "harness/support/crashers.h"

namespace crashgate::kit {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

StepResult nothing(const Args&, Context&) { return StepResult::ok(); }

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

TEST(DriverKitSelfCheck, AHandlerForAnOpOutsideTheTableIsADeclarationError) {
  Driver d("t");
  d.on("count", nothing).on("explode", nothing);
  EXPECT_TRUE(mentions(d.self_check(), "a handler for 'explode', which is not an op of the table"));
}

TEST(DriverKitSelfCheck, AnOpWhoseEngineValuesAreNotListedIsADeclarationError) {
  Driver d("t");
  d.on("read", nothing);
  EXPECT_TRUE(mentions(d.self_check(), "op 'read' takes what, whose values are the engine's, but the driver lists none"));
  d.values("read", "what", {"open"});
  EXPECT_TRUE(d.self_check().empty());
}

// create's variant has default values: a driver that lists none takes only
// "default" (and --list ops says so); one that lists its own takes those.
TEST(DriverKitSelfCheck, AKeyWithDefaultValuesNeedsNoListAndTakesOnlyTheDefaultWithout) {
  auto create_values = [](const Driver& d) {
    for (const json& op : d.ops_listing())
      if (op["op"] == "create") return op["values"];
    return json();
  };
  Driver plain("t");
  plain.on("create", nothing).values("create", "metric", {"l2"});
  EXPECT_TRUE(plain.self_check().empty()) << ::testing::PrintToString(plain.self_check());
  EXPECT_EQ(create_values(plain)["variant"], json::array({"default"}));
  Driver lmdb_like("t");
  lmdb_like.on("create", nothing).values("create", "metric", {"none"}).values("create", "variant", {"default", "writemap"});
  EXPECT_TRUE(lmdb_like.self_check().empty());
  EXPECT_EQ(create_values(lmdb_like)["variant"], json::array({"default", "writemap"}));
}

TEST(DriverKitSelfCheck, ValuesForAKeyThatIsNotTheEnginesAreADeclarationError) {
  Driver d("t");
  d.on("delete", nothing).values("delete", "shape", {"or"});
  EXPECT_TRUE(mentions(d.self_check(), "values for delete.shape, which is not a key whose values are the engine's"));
}

TEST(DriverKitSelfCheck, AFileTheLayoutDoesNotDescribeIsADeclarationError) {
  Driver d("t");
  d.on("truncate", nothing).values("truncate", "file", {"data"});
  d.layout({LayoutFile{.file = "lock", .header_size = 8, .fields = {{"magic", 0, 8, "m"}}}});
  EXPECT_TRUE(mentions(d.self_check(), "truncate.file accepts 'data', which the layout does not describe"));
}

TEST(DriverKitSelfCheck, AFieldOutsideItsHeaderIsADeclarationError) {
  Driver d("t");
  d.layout({LayoutFile{.file = "data", .header_size = 16, .fields = {{"count", 12, 8, "records"}}}});
  EXPECT_TRUE(mentions(d.self_check(), "layout data.count: offset 12 + width 8 lies outside the 16-byte header"));
}

TEST(DriverKitReadSteps, TypesEveryValueAndRefusesOneOfTheWrongType) {
  auto good = read_steps(json{{"steps", {{{"index", 0}, {"op", "create"}, {"dim", 8}, {"hnsw", false}},
                                         {{"index", 1}, {"op", "sleep"}, {"duration", 250}}}}});
  ASSERT_TRUE(good) << good.error();
  EXPECT_EQ(good->at(0).u64("dim", 64), 8u);
  EXPECT_EQ(good->at(0).u64("vectors", 7), 7u);  // absent: the fallback
  EXPECT_FALSE(good->at(0).boolean("hnsw", true));
  EXPECT_EQ(good->at(1).duration_ms("duration", 0), 250u);
  auto bad = read_steps(json{{"steps", {{{"index", 0}, {"op", "create"}, {"dim", "128x"}}}}});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error(), HasSubstr("step 0 (create): 'dim' must be a whole number"));
  auto unknown = read_steps(json{{"steps", {{{"index", 0}, {"op", "explode"}}}}});
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error(), HasSubstr("unknown op 'explode'"));
}

// Which steps the engine's own check follows (check_invariants): from a
// create on; not after damage, an import, a replaced file, a second process or
// an armed failpoint until the next create; not between spawn-workload and join.
TEST(DriverKitInvariantWindow, OpensAtCreateClosesOnWhatTheModelCannotFollow) {
  auto steps = read_steps(json{{"steps",
                                {{{"index", 0}, {"op", "count"}},
                                 {{"index", 1}, {"op", "create"}},
                                 {{"index", 2}, {"op", "failpoints"}, {"spec", ""}},
                                 {{"index", 3}, {"op", "spawn-workload"}, {"workload", "mixed"}},
                                 {{"index", 4}, {"op", "join"}},
                                 {{"index", 5}, {"op", "truncate"}, {"file", "vectors"}, {"to", "0"}},
                                 {{"index", 6}, {"op", "count"}},
                                 {{"index", 7}, {"op", "create"}},
                                 {{"index", 8}, {"op", "failpoints"}, {"spec", "x=1*error(EIO)"}},
                                 {{"index", 9}, {"op", "create"}},
                                 {{"index", 10}, {"op", "import"}, {"from", "/tmp"}}}}});
  ASSERT_TRUE(steps) << steps.error();
  InvariantWindow window;
  std::vector<int> checked;
  for (const Args& step : *steps) {
    window.after(step, true);
    if (window.open()) checked.push_back(step.index());
  }
  EXPECT_EQ(checked, (std::vector<int>{1, 2, 4, 7, 9}));
  InvariantWindow failed_create;
  failed_create.after(steps->at(1), false);
  EXPECT_FALSE(failed_create.open()) << "a create that failed made no store the model knows";
}

TEST(DriverKitArgs, ReadingAKeyAsAnotherTypeIsADriverBug) {
  auto steps = read_steps(json{{"steps", {{{"index", 0}, {"op", "create"}, {"dim", 8}}}}});
  ASSERT_TRUE(steps);
  EXPECT_THROW((void)steps->at(0).string("dim"), std::logic_error);
  EXPECT_THROW((void)steps->at(0).u64("dimension", 0), std::logic_error);
}

TEST(DriverKitOffsets, AreEvaluatedFromTheLayoutAndTheFileItself) {
  std::string path = testing::scratch_dir("offsets") + "/data.bin";
  {
    std::ofstream out(path, std::ios::binary);
    std::string bytes(64, '\0');
    bytes[8] = 24;  // the slot size field, little-endian
    out << bytes;
  }
  LayoutFile file{.file = "data", .header_size = 16, .fields = {{"magic", 0, 8, "m"}, {"slot_size", 8, 8, "bytes a slot"}},
                  .slot_base = 16, .slot_size_field = "slot_size"};
  auto at = [&](const char* expr) { return evaluate_offset(file, path, expr); };
  EXPECT_EQ(*at("header-1"), 15u);
  EXPECT_EQ(*at("end"), 64u);
  EXPECT_EQ(*at("field(slot_size)+2"), 10u);
  EXPECT_EQ(*at("slot(2)+5"), 16u + 2 * 24 + 5);
  ASSERT_FALSE(at("field(count)"));
  EXPECT_THAT(at("field(count)").error(), HasSubstr("data has no header field 'count' (it has: magic, slot_size)"));
  ASSERT_FALSE(at("committed"));
  EXPECT_THAT(at("committed").error(), HasSubstr("unknown term 'committed'"));
  ASSERT_FALSE(at("header-17"));
  EXPECT_THAT(at("header-17").error(), HasSubstr("negative"));
  auto extra = [](const std::string& name, const std::optional<std::string>&) -> std::optional<std::uint64_t> {
    if (name == "committed") return 40;
    return std::nullopt;
  };
  EXPECT_EQ(*evaluate_offset(file, path, "committed-1", extra), 39u);
}

// A field directory becomes the store: its regular files only, the store's
// old files gone, a hole kept a hole (a sparse store is not written out), and
// the source unchanged; a missing, plain or enclosing `from` is refused naming it.
TEST(DriverKitImport, CopiesTheRegularFilesIntoAnEmptiedStoreAndLeavesTheSourceAsItWas) {
  namespace fs = std::filesystem;
  std::string root = testing::scratch_dir("import");
  std::string from = root + "/field", store = root + "/work/store";
  fs::create_directories(from + "/subdir");
  fs::create_directories(store);
  testing::write_file(from + "/header.bin", std::string(100, 'h'));
  testing::write_file(from + "/subdir/inner", "not copied");
  testing::write_file(store + "/stale", "what the store held before");
  {
    std::ofstream sparse(from + "/sparse.bin", std::ios::binary);
    sparse << "head";
  }
  fs::resize_file(from + "/sparse.bin", 64 << 20);  // 64 MiB, all but 4 bytes a hole
  struct stat before {};
  ASSERT_EQ(::stat((from + "/header.bin").c_str(), &before), 0);

  ASSERT_TRUE(import_store_files(from, store).is_ok);
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(store)) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"header.bin", "sparse.bin"}));
  EXPECT_EQ(fs::file_size(store + "/header.bin"), 100u);
  EXPECT_EQ(fs::file_size(store + "/sparse.bin"), 64u << 20);
  struct stat copied {};
  ASSERT_EQ(::stat((store + "/sparse.bin").c_str(), &copied), 0);
  EXPECT_LT(copied.st_blocks * 512, 1 << 20) << "the hole was written out";
  struct stat after {};
  ASSERT_EQ(::stat((from + "/header.bin").c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_TRUE(fs::exists(from + "/subdir/inner"));

  StepResult r = import_store_files(root + "/nowhere", store);
  EXPECT_EQ(r.code, "not-found");
  EXPECT_THAT(r.message, HasSubstr(root + "/nowhere"));
  r = import_store_files(from + "/header.bin", store);
  EXPECT_EQ(r.code, "invalid-argument");
  EXPECT_EQ(r.message, "import: from = " + from + "/header.bin is not a directory");
  r = import_store_files(store, store);
  EXPECT_EQ(r.code, "invalid-argument");
  EXPECT_THAT(r.message, HasSubstr("which the import empties"));
  r = import_store_files(from + "/subdir", from);
  EXPECT_EQ(r.code, "invalid-argument");
  EXPECT_TRUE(fs::exists(from + "/subdir/inner")) << "a refused import empties nothing";
  // A store inside `from` (a work directory under the field's): only regular files are copied.
  EXPECT_TRUE(import_store_files(from, from + "/subdir/store").is_ok);
}

TEST(DriverKitImport, AKeyTheFilesSayIsTakenFromThemAndOneThatDisagreesIsRefused) {
  auto steps = read_steps(json{{"steps",
                                {{{"index", 0}, {"op", "import"}, {"from", "/f"}, {"dim", 8}, {"metric", "l2"}},
                                 {{"index", 1}, {"op", "import"}, {"from", "/f"}}}}});
  ASSERT_TRUE(steps) << steps.error();
  const Args &given = steps->at(0), &bare = steps->at(1);
  std::uint64_t dim = 0;
  EXPECT_TRUE(settle_import_key(given, "dim", FromFiles<std::uint64_t>{8, "the header"}, 64, dim).is_ok);
  EXPECT_EQ(dim, 8u);
  EXPECT_TRUE(settle_import_key(bare, "dim", FromFiles<std::uint64_t>{16, "the header"}, 64, dim).is_ok);
  EXPECT_EQ(dim, 16u) << "the files say it";
  EXPECT_TRUE(settle_import_key(bare, "dim", FromFiles<std::uint64_t>{std::nullopt, "the header"}, 64, dim).is_ok);
  EXPECT_EQ(dim, 64u) << "nobody says it: the fallback";
  StepResult r = settle_import_key(given, "dim", FromFiles<std::uint64_t>{16, "the header"}, 64, dim);
  EXPECT_EQ(r.code, "invalid-argument");
  EXPECT_EQ(r.message, "import: dim = 8, but the header says 16");
  std::string metric;
  r = settle_import_key(given, "metric", FromFiles<std::string>{"cosine", "MANIFEST's metric"}, "l2", metric);
  EXPECT_EQ(r.message, "import: metric = l2, but MANIFEST's metric says cosine");
  EXPECT_TRUE(settle_import_key(bare, "metric", FromFiles<std::string>{"cosine", "MANIFEST's metric"}, "l2", metric).is_ok);
  EXPECT_EQ(metric, "cosine");
}

TEST(DriverKitThreads, AWorkerGetsTheStackItAskedFor) {
  std::size_t seen = 0;
  std::thread t = start_thread(3 * 1024 * 1024, [&] {
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstacksize(&attr, &seen);
    pthread_attr_destroy(&attr);
  });
  t.join();
  EXPECT_EQ(seen, 3u * 1024 * 1024);
}

std::size_t stack_size_seen_by(std::uint64_t asked) {
  std::size_t seen = 0;
  std::thread t = start_thread(asked, [&] {
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstacksize(&attr, &seen);
    pthread_attr_destroy(&attr);
  });
  t.join();
  return seen;
}

TEST(DriverKitThreads, AWorkerNeverRunsOnALargerStackLeftByAnEarlierThread) {
  // glibc keeps the stacks of finished threads and hands one out again to a
  // thread that asks for up to a quarter of its size: a 64 KiB worker would
  // run on 256 KiB and not overflow where the cell says it must.
  ASSERT_EQ(stack_size_seen_by(256 * 1024), 256u * 1024);
  EXPECT_EQ(stack_size_seen_by(64 * 1024), 64u * 1024);
  EXPECT_EQ(stack_size_seen_by(64 * 1024 + 1), 68u * 1024) << "rounded up to whole pages";
}

}  // namespace
}  // namespace crashgate::kit
