// Damaged data directories from the field: the engine recognised by the
// drivers' layout tables, the files inspected against them, every read op run
// on a copy (the directory given is never written), crashes matched.
#include <sys/inotify.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/driver_listing.h"
#include "crashgate/store_triage.h"
#include "harness/support/crashers.h"
#include "harness/support/engine_cells.h"
#include "harness/support/refusal.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

nlohmann::json layout_row(const std::string& file, const std::string& pattern, std::uint64_t header,
                          nlohmann::json fields = nlohmann::json::array()) {
  return {{"file", file}, {"pattern", pattern}, {"header_size", header}, {"fields", fields}, {"meaning", file + " things"}};
}

EngineLayout toy_engine() {
  auto fields = nlohmann::json::parse(R"([{"name": "magic", "offset": 0, "width": 8},
                                          {"name": "slot_size", "offset": 8, "width": 4},
                                          {"name": "count", "offset": 12, "width": 4}])");
  return EngineLayout{"toy", "/nonexistent/driver",
                      {layout_row("vectors", "vectors-*.bin", 16, fields), layout_row("upper", "vectors-upper-*.bin", 16),
                       layout_row("manifest", "MANIFEST", 8)}};
}

TEST(StoreTriage, TheEngineIsTheOneWhoseLayoutNamesMostOfTheFiles) {
  std::string dir = testing::scratch_dir("store");
  testing::write_file(dir + "/MANIFEST", "12345678");
  testing::write_file(dir + "/vectors-000001.bin", std::string(32, 'x'));
  EngineLayout other{"other", "/x", {layout_row("data", "*.bin", 0)}};
  auto recognised = recognise_engine(dir, {other, toy_engine()});
  ASSERT_TRUE(recognised) << testing::refusal(recognised);
  EXPECT_EQ(recognised->target, "toy");
  EXPECT_THAT(recognised->why, HasSubstr("MANIFEST (manifest), vectors-000001.bin (vectors)"));
}

TEST(StoreTriage, NoEngineOrTwoEqualEnginesAreRefusedNamingWhatWasTried) {
  std::string dir = testing::scratch_dir("unknown");
  testing::write_file(dir + "/notes.txt", "x");
  auto none = recognise_engine(dir, {toy_engine()});
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error(), HasSubstr("no engine's layout names any of its files (engines tried: toy)"));
  testing::write_file(dir + "/MANIFEST", "x");
  EngineLayout twin = toy_engine();
  twin.target = "twin";
  twin.files.pop_back();  // another layout that names MANIFEST too
  twin.files.push_back(layout_row("manifest", "MANIFEST", 16));
  auto tie = recognise_engine(dir, {toy_engine(), twin});
  ASSERT_FALSE(tie);
  EXPECT_THAT(tie.error(), HasSubstr("fit the layouts of toy, twin equally well; say which with --target"));
  // Two drivers of one engine list the same layout: the first is taken, the other named.
  EngineLayout python_twin = toy_engine();
  python_twin.target = "pytoy";
  python_twin.files[0]["meaning"] = "worded otherwise";
  auto same = recognise_engine(dir, {toy_engine(), python_twin});
  ASSERT_TRUE(same) << testing::refusal(same);
  EXPECT_EQ(same->target, "toy");
  EXPECT_THAT(same->why, HasSubstr("the same layout as pytoy (--target picks one)"));
  auto empty = recognise_engine(testing::scratch_dir("empty"), {toy_engine()});
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error(), HasSubstr("holds no files"));
}

TEST(StoreTriage, InspectionSaysWhatIsDamagedInPlainWordsAndReadsTheHeaderFields) {
  std::string dir = testing::scratch_dir("damaged");
  std::string header = std::string("VECTORS\0", 8) + std::string("\x0a\x00\x00\x00", 4) + std::string("\x03\x00\x00\x00", 4);
  testing::write_file(dir + "/vectors-000001.bin", header + std::string(25, 'v'));  // 2.5 slots of 10 bytes
  testing::write_file(dir + "/vectors-upper-000001.bin", "");
  testing::write_file(dir + "/stray.log", "x");
  EngineLayout engine = toy_engine();
  engine.files[0]["slot_base"] = 16;
  engine.files[0]["slot_size_field"] = "slot_size";
  auto inspection = inspect_store(dir, engine);
  ASSERT_TRUE(inspection) << testing::refusal(inspection);
  ASSERT_EQ(inspection->files.size(), 3u);
  const StoreFile& stray = inspection->files[0];
  EXPECT_EQ(stray.layout_file, "");
  const StoreFile& vectors = inspection->files[1];
  EXPECT_EQ(vectors.layout_file, "vectors");
  EXPECT_THAT(vectors.problems, ::testing::ElementsAre("vectors-000001.bin ends 5 bytes into a 10-byte slot: its last slot is cut short"));
  EXPECT_THAT(vectors.fields, ::testing::Contains(std::pair<std::string, std::string>("magic", "\"VECTORS\"")));
  EXPECT_THAT(vectors.fields, ::testing::Contains(std::pair<std::string, std::string>("count", "3")));
  const StoreFile& upper = inspection->files[2];
  EXPECT_EQ(upper.layout_file, "upper") << "the most specific pattern wins over vectors-*.bin";
  EXPECT_THAT(upper.problems, ::testing::ElementsAre("vectors-upper-000001.bin is 0 bytes; its header alone is 16 bytes"));
  EXPECT_THAT(inspection->problems, ::testing::ElementsAre("no file fits MANIFEST (toy's manifest file: manifest things)"));
}

// The directory's every change, as inotify reports it: a write, a close
// after writing, an attribute change, a file made, moved or removed.
class DirectoryWatch {
 public:
  explicit DirectoryWatch(const std::string& dir) : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    inotify_add_watch(fd_, dir.c_str(),
                      IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO);
  }
  ~DirectoryWatch() { close(fd_); }
  int changes() const {
    alignas(inotify_event) char buffer[8192];
    int events = 0;
    for (ssize_t n; (n = read(fd_, buffer, sizeof buffer)) > 0;)
      for (char* p = buffer; p < buffer + n; p += sizeof(inotify_event) + reinterpret_cast<inotify_event*>(p)->len) ++events;
    return events;
  }

 private:
  int fd_;
};

std::map<std::string, std::string> contents_of(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) files[entry.path().filename().string()] = testing::read_file(entry.path().string());
  return files;
}

#ifdef CRASHGATE_LMDB_DRIVER
constexpr const char* kLmdbDriver = CRASHGATE_LMDB_DRIVER;
#else
constexpr const char* kLmdbDriver = "";
#endif

// A store of `target` made by its driver: created with 300 records, synced.
std::string make_store(const std::string& driver, const std::string& target, const std::string& work) {
  Outcome made = testing::run_one_cell(R"(
name = "make-store"
targets = [")" + target + R"("]
[[step]]
op = "create"
dim = 8
vectors = 300
[[step]]
op = "sync"
[expect]
outcome = "ok"
)",
                                       driver, work);
  EXPECT_EQ(made.kind, OutcomeKind::ok) << testing::steps_of(made);
  return work + "/store";
}

TEST(StoreTriage, AVstoreStoreCutShortIsRefusedCleanlyByEveryReadAndTheDirectoryIsNeverWritten) {
  std::string store = make_store(CRASHGATE_VSTORE_DRIVER, "vstore", testing::scratch_dir("vstore"));
  std::string vectors;
  for (const auto& entry : std::filesystem::directory_iterator(store))
    if (entry.path().filename().string().rfind("vectors-", 0) == 0) vectors = entry.path().string();
  ASSERT_FALSE(vectors.empty());
  std::filesystem::resize_file(vectors, 4096 + 100);
  auto before = contents_of(store);
  DirectoryWatch watch(store);
  Outcome o = testing::run_crashgate({"triage", store, "--build", CRASHGATE_BUILD_NAME, "--known-issues",
                                      testing::source_dir() + "/reports/known-issues.toml", "--json"});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_EQ(watch.changes(), 0) << "triage wrote to the directory it was given";
  EXPECT_EQ(contents_of(store), before);
  auto json = nlohmann::json::parse(o.stdout_excerpt.text());
  const auto& triage = json["triage"]["store"];
  EXPECT_EQ(triage["engine"], "vstore");
  ASSERT_GE(triage["reads"].size(), 5u);
  int refused = 0;
  for (const auto& read : triage["reads"]) {
    std::string kind = read["result"]["kind"];
    EXPECT_THAT(kind, ::testing::AnyOf("ok", "error")) << read.dump(2);
    if (kind == "error") ++refused;
  }
  EXPECT_GE(refused, 1) << "a cut vectors file is refused by some read";
}

TEST(StoreTriage, AnLmdbEnvWhosePageSizeIsZeroCrashesEveryReadAtOpenAsKnownIssueLmdb1) {
  if (std::string(kLmdbDriver).empty()) GTEST_SKIP() << "no LMDB driver in this build";
  std::string store = make_store(kLmdbDriver, "lmdb", testing::scratch_dir("lmdb"));
  // Both meta pages' mm_psize zeroed, where the driver's layout table says they are.
  DriverListing layout = list_from_driver(kLmdbDriver, "layout", "file");
  ASSERT_TRUE(layout.error.empty()) << layout.error;
  std::string data = testing::read_file(store + "/data.mdb");
  int zeroed = 0;
  for (const auto& row : layout.rows)
    if (row["file"] == "data")
      for (const auto& field : row["fields"]) {
        std::string name = field["name"];
        if (name.find("mm_psize") == std::string::npos) continue;
        std::uint64_t offset = field["offset"], width = field["width"];
        data.replace(offset, width, std::string(width, '\0'));
        ++zeroed;
      }
  ASSERT_EQ(zeroed, 2) << "meta0 and meta1";
  testing::write_file(store + "/data.mdb", data);
  Outcome o = testing::run_crashgate({"triage", store, "--build", CRASHGATE_BUILD_NAME, "--reads", "open,count,fsck",
                                      "--known-issues", testing::source_dir() + "/reports/known-issues.toml"});
  std::string text = o.stdout_excerpt.text();
  EXPECT_THAT(text, HasSubstr("engine: lmdb (its files fit lmdb's layout: data.mdb (data)"));
  EXPECT_THAT(text, HasSubstr("open     signal: SIGFPE"));
  EXPECT_THAT(text, HasSubstr("[known issue LMDB-1]"));
  // fsck reads data.mdb without LMDB: where every LMDB read dies, it still says what is damaged.
  EXPECT_THAT(text, HasSubstr("fsck     error: step 1 (read) failed: corrupt: fsck: 2 problems: meta page 0: mm_psize 0 is not a "
                              "power of two from 512 to 32,768; meta page 1: mm_psize 0 is not a power of two"));
  EXPECT_THAT(text, HasSubstr("still works: nothing"));
  EXPECT_EQ(o.exit_code, 0) << "a crash the known issues name is not new: " << testing::output_of(o);
}

// A leaf page whose mp_pgno is not its own number: LMDB never checks it, so
// every LMDB read still works; only the driver's fsck (which walks data.mdb
// itself) finds it, and triage lists its sentence with the reads. No read
// crashed: exit 0.
TEST(StoreTriage, AnLmdbEnvDamagedWhereLmdbDoesNotLookIsNamedByItsFsckRead) {
  if (std::string(kLmdbDriver).empty()) GTEST_SKIP() << "no LMDB driver in this build";
  std::string store = make_store(kLmdbDriver, "lmdb", testing::scratch_dir("lmdb"));
  std::string data = testing::read_file(store + "/data.mdb");
  // The newest meta page (the larger mm_txnid, at 144), its main DB's md_root (88 + 40), down the first children to a leaf.
  std::uint64_t meta = testing::little_endian(data, 4096 + 144, 8) > testing::little_endian(data, 144, 8) ? 4096 : 0;
  std::uint64_t page = testing::little_endian(data, meta + 88 + 40, 8);
  for (int depth = 0; depth < 8 && testing::little_endian(data, page * 4096 + 10, 2) == 0x01; ++depth) {  // P_BRANCH
    std::uint64_t node = page * 4096 + testing::little_endian(data, page * 4096 + 16, 2);  // mp_ptrs[0]
    page = testing::little_endian(data, node, 4) | (testing::little_endian(data, node + 4, 2) << 32);  // mn_lo, mn_hi, mn_flags
  }
  ASSERT_EQ(testing::little_endian(data, page * 4096 + 10, 2), 0x02u) << "a leaf (P_LEAF) at page " << page;
  data.replace(page * 4096, 8, std::string("\x61\x1e\0\0\0\0\0\0", 8));  // mp_pgno 7,777
  testing::write_file(store + "/data.mdb", data);
  Outcome o = testing::run_crashgate({"triage", store, "--target", "lmdb", "--build", CRASHGATE_BUILD_NAME, "--known-issues",
                                      testing::source_dir() + "/reports/known-issues.toml"});
  EXPECT_EQ(o.exit_code, 0) << "no read crashed: " << testing::output_of(o);
  std::string text = o.stdout_excerpt.text();
  EXPECT_THAT(text, HasSubstr("engine: lmdb (--target)"));
  EXPECT_THAT(text, HasSubstr(fmt::format("fsck     error: step 1 (read) failed: corrupt: fsck: 1 problem: page {} (main DB leaf, "
                                          "depth {}): mp_pgno says 7,777, not {}",
                                          page, testing::little_endian(data, meta + 88 + 6, 2), page)))
      << text;
  EXPECT_THAT(text, HasSubstr("still works: open, count, get, search, scan\n")) << text;
  EXPECT_THAT(text, HasSubstr("no read crashed"));
}

TEST(StoreTriage, PromotingACrashingDirectoryMinimizesItAndWritesAScenarioThatReproducesTheCrash) {
  if (std::string(kLmdbDriver).empty()) GTEST_SKIP() << "no LMDB driver in this build";
  std::string scratch = testing::scratch_dir("promote");
  std::string store = make_store(kLmdbDriver, "lmdb", scratch + "/made");
  std::filesystem::resize_file(store + "/data.mdb", 8191);  // cut inside the second meta page: SIGBUS when mapped
  auto before = contents_of(store);
  std::uint64_t bytes_before = 0;
  for (const auto& [name, bytes] : before) bytes_before += bytes.size();
  Outcome o = testing::run_crashgate({"triage", store, "--build", CRASHGATE_BUILD_NAME, "--reads", "open", "--known-issues",
                                      scratch + "/known.toml", "--promote", "--minimize-trials", "30", "--corpus-root",
                                      scratch + "/corpora", "--scenario-dir", scratch + "/scenarios"});
  ASSERT_EQ(o.exit_code, 1) << "the crash is new to an empty known-issues file: " << testing::output_of(o);
  EXPECT_EQ(contents_of(store), before) << "minimizing works on copies";
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--promote: minimized to "));
  std::string scenario;
  for (const auto& entry : std::filesystem::directory_iterator(scratch + "/scenarios")) scenario = entry.path().string();
  ASSERT_THAT(scenario, HasSubstr("/field-lmdb-"));
  std::string corpus;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(scratch + "/corpora"))
    if (entry.is_directory() && entry.path().parent_path().filename() == "lmdb") corpus = entry.path().string();
  ASSERT_FALSE(corpus.empty());
  std::uint64_t bytes_after = 0;
  for (const auto& [name, bytes] : contents_of(corpus)) bytes_after += bytes.size();
  EXPECT_LT(bytes_after, bytes_before) << "lock.mdb at least is not needed for the crash";
  EXPECT_THAT(testing::read_file(scenario), HasSubstr("from = \"" + corpus + "\""));
  // The scenario reproduces the crash it was made from: its one cell fails with a signal.
  Outcome run = testing::run_crashgate({"run", scenario, "--in-builds", CRASHGATE_BUILD_NAME, "--out", scratch + "/run"});
  EXPECT_EQ(run.exit_code, 1) << testing::output_of(run);
  EXPECT_THAT(testing::read_file(scratch + "/run/latest/results.json"), HasSubstr("\"signal\": \"SIGBUS\""));
  // A second promotion of the same crash is refused, changing nothing.
  Outcome again = testing::run_crashgate({"triage", store, "--build", CRASHGATE_BUILD_NAME, "--reads", "open", "--known-issues",
                                          scratch + "/known.toml", "--promote", "--corpus-root", scratch + "/corpora",
                                          "--scenario-dir", scratch + "/scenarios"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.stderr_excerpt.text(), HasSubstr("this crash was promoted before"));
}

}  // namespace
}  // namespace crashgate
