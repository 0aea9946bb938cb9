// The LMDB driver (targets/lmdb): it conforms to the driver protocol, a cell
// that writes, removes, reopens and verifies ends ok, LMDB refuses an env
// whose meta magic is gone with a clean error, its --list layout says where
// the fields of a real data.mdb and lock.mdb are, its second processes
// (a writer killed at a commit, data.mdb cut under this process's map, a
// reader beside a writer growing the map) end as they must, and its `read
// what = fsck` passes a sound env, names each damage in a sentence, and
// survives hundreds of random ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <random>

#include "crashgate/driver_listing.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/limits.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"
#include "harness/support/crashers.h"
#include "harness/support/engine_cells.h"
#include "harness/support/run_fixtures.h"
#include "targets/lmdb/driver/lmdb_fsck.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

#ifdef CRASHGATE_LMDB_DRIVER
constexpr const char* kLmdbDriver = CRASHGATE_LMDB_DRIVER;
#else
constexpr const char* kLmdbDriver = "";
#endif

#define SKIP_WITHOUT_LMDB_DRIVER() \
  if (std::string(kLmdbDriver).empty()) GTEST_SKIP() << "no LMDB driver in this build (LMDB was not found at configure)"

// Runs the only cell of a one-cell scenario against the lmdb driver, in `work_dir`.
Outcome run_lmdb_cell(const std::string& toml, const std::string& work_dir) { return testing::run_one_cell(toml, kLmdbDriver, work_dir); }

TEST(LmdbDriver, PassesDriverCheck) {
  SKIP_WITHOUT_LMDB_DRIVER();
  Outcome o = testing::run_crashgate(
      {"driver-check", kLmdbDriver, "--timeout", "30s", "--work-dir", testing::scratch_dir("lmdb-driver-check")});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed")) << testing::output_of(o);
}

TEST(LmdbDriver, ACellThatCreatesAddsRemovesReopensAndVerifiesEndsOk) {
  SKIP_WITHOUT_LMDB_DRIVER();
  Outcome o = run_lmdb_cell(R"(
name = "lmdb-round-trip"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 16
vectors = 300
[[step]]
op = "add"
vectors = 50
[[step]]
op = "add"
ids = [1000, 1001]
seed = 99
[[step]]
op = "remove"
ids = [5]
[[step]]
op = "remove"
count = 10
[[step]]
op = "count"
equals = 341
[[step]]
op = "reopen"
[[step]]
op = "verify"
[[step]]
op = "search"
queries = 5
k = 10
[[step]]
op = "read"
what = "scan"
[[step]]
op = "get"
ids = [5]
expect = "error:not-found"
[expect]
outcome = "ok"
)",
                            testing::scratch_dir("round-trip"));
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
  EXPECT_EQ(o.steps.size(), 11u) << testing::steps_of(o);
}

// Readers while writers commit and grow the map (mdb_env_set_mapsize with
// every reader outside its transaction): the workload's writer thread and an
// add step too large for the first map. The store ends whole, and larger.
TEST(LmdbDriver, ReadersWhileAWriterGrowsTheMapEndOk) {
  SKIP_WITHOUT_LMDB_DRIVER();
  std::string dir = testing::scratch_dir("growth");
  Outcome o = run_lmdb_cell(R"(
name = "lmdb-growth"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 65536
vectors = 2
[[step]]
op = "spawn-workload"
workload = "mixed"
threads = 3
duration = "1500ms"
[[step]]
op = "add"
vectors = 100
[[step]]
op = "count"
[[step]]
op = "join"
[[step]]
op = "verify"
[[step]]
op = "read"
what = "scan"
[expect]
outcome = "ok"
)",
                            dir);
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
  EXPECT_EQ(o.steps.size(), 7u) << testing::steps_of(o);
  // The add step's 100 records of 256 KiB (and the writer's 20 a commit) do not fit the first 16 MiB map.
  std::string data = testing::read_file(dir + "/store/data.mdb");
  std::uint64_t newer = testing::little_endian(data, 4096 + 144, 8) > testing::little_endian(data, 144, 8) ? 4096 : 0;  // mm_txnid
  EXPECT_GT(testing::little_endian(data, newer + 32, 8), std::uint64_t{16} << 20) << "mm_mapsize: the map grew";
}

// LMDB reads both meta pages at open and refuses the env at the first whose
// magic is wrong (mdb_env_read_header: MDB_INVALID), the other one intact or not.
TEST(LmdbDriver, ZeroedMetaMagicIsACleanCorruptErrorAtOpen) {
  SKIP_WITHOUT_LMDB_DRIVER();
  for (const char* metas : {"meta0", "meta1", "both"}) {
    std::string corrupt;
    for (const char* meta : {"meta0", "meta1"})
      if (std::string(metas) == "both" || std::string(metas) == meta)
        corrupt += fmt::format("[[step]]\nop = \"corrupt\"\nfile = \"data\"\nat = \"field({}.mm_magic)\"\nbytes = 4\nvalue = 0\n", meta);
    Outcome o = run_lmdb_cell(fmt::format(R"(
name = "lmdb-no-magic"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 8
vectors = 100
{}[[step]]
op = "read"
what = "open"
[expect]
outcome = "error"
)",
                                          corrupt),
                              testing::scratch_dir(std::string("no-magic-") + metas));
    int open_step = std::string(metas) == "both" ? 3 : 2;
    EXPECT_EQ(std::string(to_string(o.kind)), "error") << metas << ": " << testing::steps_of(o);
    ASSERT_TRUE(o.failed_step.has_value()) << metas << ": " << testing::steps_of(o);
    EXPECT_EQ(*o.failed_step, open_step) << metas;
    ASSERT_EQ(o.steps.size(), static_cast<std::size_t>(open_step + 1)) << metas << ": " << testing::steps_of(o);
    EXPECT_EQ(o.steps.back().code, "corrupt") << metas;
    EXPECT_THAT(o.steps.back().message, HasSubstr("mdb_env_open: MDB_INVALID: File is not an LMDB file")) << metas;
  }
}

// --list layout against the files of a real env: three commits (the main DB's
// flags, 200 records, 5 more), so meta page 1 holds transaction 3 and meta
// page 0 transaction 2.
TEST(LmdbDriver, LayoutOffsetsMatchARealEnv) {
  SKIP_WITHOUT_LMDB_DRIVER();
  DriverListing listing = list_from_driver(kLmdbDriver, "layout", "file");
  ASSERT_TRUE(listing.error.empty()) << listing.error;
  std::map<std::string, nlohmann::json> files;
  for (const auto& row : listing.rows) files[row["file"].get<std::string>()] = row;
  ASSERT_TRUE(files.count("data") && files.count("lock"));
  auto field = [&](const std::string& file, const std::string& name) -> std::pair<std::uint64_t, std::uint64_t> {
    for (const auto& f : files[file]["fields"])
      if (f["name"] == name) return {f["offset"].get<std::uint64_t>(), f["width"].get<std::uint64_t>()};
    ADD_FAILURE() << file << " has no field " << name;
    return {1u << 30, 0};
  };
  EXPECT_EQ(files["data"]["pattern"], "data.mdb");
  EXPECT_EQ(files["data"]["header_size"], 8192u);
  EXPECT_EQ(files["data"]["fields"].size(), 54u);

  std::string dir = testing::scratch_dir("layout-env");
  Outcome o = run_lmdb_cell(R"(
name = "lmdb-layout"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 8
vectors = 200
[[step]]
op = "add"
vectors = 5
[[step]]
op = "count"
equals = 205
[expect]
outcome = "ok"
)",
                            dir);
  ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  std::string data = testing::read_file(dir + "/store/data.mdb");
  ASSERT_GE(data.size(), 8192u);
  auto at = [&](const std::string& name) {
    auto [offset, width] = field("data", name);
    return testing::little_endian(data, offset, width);
  };
  for (int m = 0; m < 2; ++m) {
    std::string meta = fmt::format("meta{}", m);
    SCOPED_TRACE(meta);
    EXPECT_EQ(at(meta + ".mm_magic"), 0xBEEFC0DEu);
    EXPECT_EQ(field("data", meta + ".mm_magic").first, m * 4096u + 16u);
    EXPECT_EQ(at(meta + ".mm_version"), 1u);
    EXPECT_EQ(at(meta + ".mp_pgno"), static_cast<std::uint64_t>(m));
    EXPECT_EQ(at(meta + ".mp_flags"), 0x08u) << "P_META";
    EXPECT_EQ(at(meta + ".free.mm_psize"), 4096u);
    EXPECT_EQ(at(meta + ".main.md_flags"), 0x08u) << "MDB_INTEGERKEY";
    EXPECT_EQ(at(meta + ".mm_address"), 0u);
  }
  // Transaction N writes meta page N % 2.
  EXPECT_EQ(at("meta1.mm_txnid"), 3u);
  EXPECT_EQ(at("meta1.main.md_entries"), 205u);
  EXPECT_EQ(at("meta0.mm_txnid"), 2u);
  EXPECT_EQ(at("meta0.main.md_entries"), 200u);
  EXPECT_GE(at("meta1.main.md_root"), 2u);
  EXPECT_LE(at("meta1.main.md_root"), at("meta1.mm_last_pg"));
  EXPECT_EQ(data.size(), (at("meta1.mm_last_pg") + 1) * 4096) << "the file is its last page and no more";
  EXPECT_EQ(at("meta1.mm_mapsize"), at("meta0.mm_mapsize"));

  std::string lock = testing::read_file(dir + "/store/lock.mdb");
  auto lock_at = [&](const std::string& name) {
    auto [offset, width] = field("lock", name);
    return testing::little_endian(lock, offset, width);
  };
  EXPECT_EQ(lock_at("mti_magic"), 0xBEEFC0DEu);
  EXPECT_EQ(lock_at("mti_format"), 0x10001u) << "MDB_LOCK_VERSION 1 + MDB_PIDLOCK << 16";
  EXPECT_EQ(lock_at("mti_txnid"), 3u) << "the last committed transaction";
  EXPECT_GE(lock_at("mti_numreaders"), 1u) << "count ran a read transaction";
  EXPECT_EQ(lock.size(), 128u + 126u * 64u) << "the header, then 126 reader slots of 64 bytes";
}


// A writer process SIGKILLed at commit 3 of 5 (commits of 20 records, synced
// by default): right after the commit returned, or with its records put and
// the commit not called. This process opens the env again: every record of the
// commits that returned is there and exact, none of the one that did not, and
// the count is exactly that; then it writes and verifies again.
TEST(LmdbDriver, AWriterKilledAtACommitLeavesEveryCommittedRecordAndNothingPartial) {
  SKIP_WITHOUT_LMDB_DRIVER();
  struct Case {
    const char* when;
    bool parent_open;
    int committed;  // records of the workload that must be there
  };
  for (const Case& c : {Case{"after", false, 60}, Case{"before", false, 40}, Case{"before", true, 40}, Case{"after", true, 60}}) {
    SCOPED_TRACE(fmt::format("when {}, parent_open {}", c.when, c.parent_open));
    Outcome o = run_lmdb_cell(fmt::format(R"(
name = "lmdb-killed-at-commit"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 8
vectors = 50
[[step]]
op = "second-process"
action = "killed-at-commit"
args = {{ commit = 3, commits = 5, records = 20, when = "{}", parent_open = {} }}
[[step]]
op = "count"
equals = {}
[[step]]
op = "verify"
[[step]]
op = "add"
vectors = 5
[[step]]
op = "verify"
[expect]
outcome = "ok"
)",
                                          c.when, c.parent_open ? "true" : "false", 50 + c.committed),
                              testing::scratch_dir(fmt::format("killed-{}-{}", c.when, c.parent_open)));
    EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
    ASSERT_EQ(o.steps.size(), 6u) << testing::steps_of(o);
    for (const auto& s : o.steps) EXPECT_EQ(std::string(to_string(s.status)), "ok") << s.index << " " << s.op << ": " << s.message;
  }
}

// Another process truncates data.mdb to its two meta pages while this one has
// the env open and mapped; this one's scan then reads a tree page through the
// map, past the file's new end: SIGBUS in the scan step, which crashgate
// attributes to data.mdb, at an offset past its 8,192 bytes.
TEST(LmdbDriver, DataMdbCutByAnotherProcessWhileMappedIsSigbusPastItsEnd) {
  SKIP_WITHOUT_LMDB_DRIVER();
  std::string dir = testing::scratch_dir("outside-truncation");
  Outcome o = run_lmdb_cell(R"(
name = "lmdb-outside-truncation"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 16
vectors = 2000
[[step]]
op = "second-process"
action = "truncate-data"
args = { to = "header" }
[[step]]
op = "read"
what = "scan"
[expect]
outcome = "signal"
signal = "SIGBUS"
)",
                            dir);
  ASSERT_EQ(std::string(to_string(o.kind)), "signal") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
  ASSERT_TRUE(o.signal.has_value());
  EXPECT_EQ(*o.signal, SIGBUS);
  ASSERT_TRUE(o.failed_step.has_value()) << testing::steps_of(o);
  EXPECT_EQ(*o.failed_step, 2) << "the scan after the cut, not the cut";
  ASSERT_TRUE(o.attribution.has_value()) << o.detail;
  EXPECT_EQ(std::filesystem::path(o.attribution->file).filename(), "data.mdb") << o.attribution->file;
  EXPECT_TRUE(o.attribution->past_eof);
  EXPECT_EQ(o.attribution->file_size, 8192u);
  EXPECT_GE(o.attribution->file_offset, 8192u);
  EXPECT_EQ(o.attribution->access, "read");
}

// A reader process scans every record while this one adds records too large
// for the first map: it meets MDB_MAP_RESIZED, adopts the new size, reads on;
// it and the store end whole.
TEST(LmdbDriver, AReaderProcessBesideAWriterGrowingTheMapEndsOk) {
  SKIP_WITHOUT_LMDB_DRIVER();
  std::string dir = testing::scratch_dir("read-loop");
  Outcome o = run_lmdb_cell(R"(
name = "lmdb-read-loop"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 65536
vectors = 2
[[step]]
op = "second-process"
action = "read-loop"
args = { duration = "1500ms" }
[[step]]
op = "add"
vectors = 100
[[step]]
op = "join"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)",
                            dir);
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
  EXPECT_EQ(o.steps.size(), 5u) << testing::steps_of(o);
  std::string progress = testing::read_file(dir + "/second-0.progress");
  EXPECT_THAT(progress, HasSubstr("read rounds")) << progress;
}

// A second-process args value the action does not take, or of the wrong form,
// is the scenario's mistake: invalid-argument, before any process starts.
// The import op: an env another cell made, imported by a second cell. LMDB's
// values are the driver's encoding: the first record says the dimension, at
// the open; the files are copied, not touched; the model is empty.
class LmdbDriverImport : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_LMDB_DRIVER();
    std::string made = testing::scratch_dir("made");
    Outcome o = run_lmdb_cell(R"toml(
name = "lmdb-made"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 16
vectors = 300
[[step]]
op = "add"
vectors = 50
[[step]]
op = "remove"
ids = [5]
[[step]]
op = "sync"
[[step]]
op = "count"
equals = 349
[expect]
outcome = "ok"
)toml",
                              made);
    ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
    source_ = made + "/store";
  }
  Outcome import_cell(const std::string& from, const std::string& keys, const std::string& steps, const std::string& name) {
    return run_lmdb_cell(testing::import_scenario("lmdb", from, keys, steps), testing::scratch_dir(name));
  }
  std::string source_;
};

TEST_F(LmdbDriverImport, AnEnvAnotherCellMadeOpensCountsSearchesAndScans) {
  auto before = testing::files_of(source_);
  Outcome o = import_cell(source_, "", R"toml(
[[step]]
op = "read"
what = "open"
[[step]]
op = "read"
what = "count"
[[step]]
op = "count"
equals = 349
[[step]]
op = "search"
queries = 5
[[step]]
op = "read"
what = "scan"
[[step]]
op = "verify"
[[step]]
op = "add"
vectors = 2
[[step]]
op = "reopen"
[[step]]
op = "verify"
[[step]]
op = "count"
equals = 351
)toml",
                          "read");
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  EXPECT_EQ(o.steps.size(), 11u) << testing::steps_of(o);
  EXPECT_EQ(testing::files_of(source_), before) << "the source directory is only read";
}

TEST_F(LmdbDriverImport, ADimTheFirstRecordContradictsIsRefusedAtTheOpenAndAMissingFromAtTheImport) {
  Outcome o = import_cell(source_, "dim = 32", "[[step]]\nop = \"count\"", "wrong-dim");
  ASSERT_EQ(o.steps.size(), 2u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].status, StepStatus::ok);
  EXPECT_EQ(o.steps[1].code, "invalid-argument");
  EXPECT_THAT(o.steps[1].message, HasSubstr("import: dim = 32, but data.mdb's first record says 16"));
  o = import_cell(source_, "metric = \"none\"\ndim = 16", "[[step]]\nop = \"count\"\nequals = 349", "right-dim");
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  std::string missing = source_ + "/no-such-dir";
  o = import_cell(missing, "", "[[step]]\nop = \"count\"", "missing");
  ASSERT_EQ(o.steps.size(), 1u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].code, "not-found");
  EXPECT_THAT(o.steps[0].message, HasSubstr(missing));
}

TEST_F(LmdbDriverImport, AHalvedDataMdbFailsWhereItIsOpenedNotAtTheImport) {
  // As lmdb-truncated-sampled's cut at `half` does: a page past the end of the
  // map, SIGBUS (known issue LMDB-4), or a clean error; never ok, never at the import.
  std::string field = testing::scratch_dir("field");
  testing::copy_with_half(source_, field, "data.mdb");
  Outcome o = import_cell(field, "", "[[step]]\nop = \"read\"\nwhat = \"count\"\n[[step]]\nop = \"read\"\nwhat = \"scan\"", "halved");
  ASSERT_GE(o.steps.size(), 2u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].status, StepStatus::ok) << testing::steps_of(o);
  EXPECT_NE(o.kind, OutcomeKind::ok) << testing::steps_of(o);
  ASSERT_TRUE(o.failed_step.has_value()) << testing::steps_of(o);
  EXPECT_GE(*o.failed_step, 1) << testing::steps_of(o);
}

// read what = fsck (fsck.cc): our check of data.mdb, which never opens the env
// with LMDB. Each test damages a copy of an env the driver made, at offsets
// this file works out itself from the format layout.cc documents (pages of
// 4,096 bytes, as LayoutOffsetsMatchARealEnv checks).
constexpr std::uint64_t kFsckTestPage = 4096;

// data.mdb's newest meta page and its main DB: the root, and the leftmost
// path from it down to a leaf.
struct LmdbTestEnv {
  std::string bytes;
  std::uint64_t meta = 0;  // 0 or 1
  std::uint64_t at(std::uint64_t offset, std::uint64_t width) const { return testing::little_endian(bytes, offset, width); }
  std::uint64_t meta_field(std::uint64_t offset, std::uint64_t width) const { return at(meta * kFsckTestPage + offset, width); }
  std::uint64_t last_pg() const { return meta_field(136, 8); }
  // mm_dbs[MAIN_DBI] (at 88): md_depth 6, md_branch_pages 8, md_leaf_pages 16, md_overflow_pages 24, md_entries 32, md_root 40.
  std::uint64_t main(std::uint64_t field, std::uint64_t width = 8) const { return meta_field(88 + field, width); }
  // Node `i` of branch page `page`: its offset (mp_ptrs[i]) and the child its mn_lo, mn_hi and mn_flags make.
  std::uint64_t node_offset(std::uint64_t page, std::uint64_t i) const { return page * kFsckTestPage + at(page * kFsckTestPage + 16 + 2 * i, 2); }
  std::uint64_t child(std::uint64_t page, std::uint64_t i) const {
    std::uint64_t node = node_offset(page, i);
    return at(node, 2) | (at(node + 2, 2) << 16) | (at(node + 4, 2) << 32);
  }
  std::vector<std::uint64_t> leftmost_path() const {
    std::vector<std::uint64_t> path{main(40)};
    while (path.size() < 40 && at(path.back() * kFsckTestPage + 10, 2) == 0x01) path.push_back(child(path.back(), 0));  // P_BRANCH
    return path;
  }
  void put(std::uint64_t offset, std::uint64_t width, std::uint64_t value) {
    for (std::uint64_t i = 0; i < width; ++i) bytes[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
};

LmdbTestEnv read_test_env(const std::string& store) {
  LmdbTestEnv env{testing::read_file(store + "/data.mdb")};
  env.meta = env.at(kFsckTestPage + 144, 8) > env.at(144, 8) ? 1 : 0;  // the larger mm_txnid
  return env;
}

// A copy of `store` whose data.mdb is `bytes`.
std::string damaged_copy(const std::string& store, const std::string& bytes, const std::string& name) {
  std::string dir = testing::scratch_dir(name);
  std::filesystem::copy_file(store + "/lock.mdb", dir + "/lock.mdb");
  testing::write_file(dir + "/data.mdb", bytes);
  return dir;
}

class LmdbDriverFsck : public ::testing::Test {
 protected:
  // Envs the driver makes once for every test here: 5,000 records of 64
  // dimensions in 1 commit and 40 more, 30 removed (a main DB of depth 3, a
  // free list); and 30 records of 1,024 dimensions, each value on overflow pages.
  static void SetUpTestSuite() {
    if (std::string(kLmdbDriver).empty()) return;
    records_ = make(R"(
[[step]]
op = "create"
dim = 64
vectors = 5000
[[step]]
op = "add"
vectors = 40
[[step]]
op = "remove"
count = 30
)",
                    "fsck-records");
    overflow_ = make(R"(
[[step]]
op = "create"
dim = 1024
vectors = 30
[[step]]
op = "remove"
ids = [3, 4, 5]
)",
                     "fsck-overflow");
  }
  static std::string make(const std::string& steps, const std::string& name) {
    std::string dir = (std::filesystem::temp_directory_path() / fmt::format("crashgate-{}-{}", name, ::getpid())).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    Outcome o = run_lmdb_cell("name = \"lmdb-fsck-env\"\ntargets = [\"lmdb\"]\n" + steps + "[expect]\noutcome = \"ok\"\n", dir);
    EXPECT_EQ(o.kind, OutcomeKind::ok) << testing::steps_of(o);
    return dir + "/store";
  }
  static void TearDownTestSuite() {
    for (const std::string* store : {&records_, &overflow_})
      if (!store->empty()) std::filesystem::remove_all(std::filesystem::path(*store).parent_path());
  }
  void SetUp() override { SKIP_WITHOUT_LMDB_DRIVER(); }

  // import the directory, then read what = fsck (and `more` steps).
  Outcome fsck_cell(const std::string& from, const std::string& name, const std::string& more = "") {
    return run_lmdb_cell(testing::import_scenario("lmdb", from, "", "[[step]]\nop = \"read\"\nwhat = \"fsck\"\n" + more),
                         testing::scratch_dir(name));
  }
  // The fsck step of a damaged copy: a corrupt error (never the open's), its message returned.
  std::string corrupt_message(const std::string& dir, const std::string& name) {
    Outcome o = fsck_cell(dir, name);
    EXPECT_EQ(o.kind, OutcomeKind::error) << testing::steps_of(o);
    if (o.steps.size() != 2) {
      ADD_FAILURE() << "import and fsck: " << testing::steps_of(o);
      return "";
    }
    EXPECT_EQ(o.steps[0].status, StepStatus::ok) << testing::steps_of(o);
    EXPECT_EQ(o.steps[1].code, "corrupt") << testing::steps_of(o);
    EXPECT_THAT(o.steps[1].message, ::testing::StartsWith("fsck: ")) << testing::steps_of(o);
    return o.steps[1].message;
  }

  static std::string records_, overflow_;
};
std::string LmdbDriverFsck::records_, LmdbDriverFsck::overflow_;

TEST_F(LmdbDriverFsck, ASoundEnvIsOkAndItsWalkAgreesWithMdbStat) {
  for (const std::string& store : {records_, overflow_}) {
    SCOPED_TRACE(store);
    lmdb_driver::FsckReport report = lmdb_driver::check_data_file(store + "/data.mdb");
    EXPECT_TRUE(report.ok()) << report.problems.front();
    LmdbTestEnv env = read_test_env(store);
    // mdb_stat(main DB) answers from the newest meta page's mm_dbs[MAIN_DBI]: the walk found what it says.
    EXPECT_EQ(report.meta, static_cast<int>(env.meta));
    EXPECT_EQ(report.main.depth, env.main(6, 2)) << "md_depth";
    EXPECT_EQ(report.main.branch_pages, env.main(8)) << "md_branch_pages";
    EXPECT_EQ(report.main.leaf_pages, env.main(16)) << "md_leaf_pages";
    EXPECT_EQ(report.main.overflow_pages, env.main(24)) << "md_overflow_pages";
    EXPECT_EQ(report.main.entries, env.main(32)) << "md_entries";
    EXPECT_EQ(report.last_pg, env.last_pg());
    EXPECT_GT(report.free_listed, 0u) << "the removes freed pages: " << report.summary();
    EXPECT_THAT(report.summary(), HasSubstr(fmt::format("main DB: depth {}", report.main.depth)));
    // ... and through the driver: fsck ok, and mdb_stat's count (the count step) the entries walked.
    Outcome o = fsck_cell(store, "sound-" + std::filesystem::path(store).parent_path().filename().string(),
                          fmt::format("[[step]]\nop = \"count\"\nequals = {}\n", report.main.entries));
    EXPECT_EQ(o.kind, OutcomeKind::ok) << testing::steps_of(o);
    EXPECT_EQ(o.steps.size(), 3u) << testing::steps_of(o);
  }
  lmdb_driver::FsckReport records = lmdb_driver::check_data_file(records_ + "/data.mdb");
  EXPECT_EQ(records.main.entries, 5010u);
  EXPECT_EQ(records.main.depth, 3u);
  EXPECT_GE(records.main.branch_pages, 3u) << "a root and two branch pages under it at least";
  EXPECT_GE(records.main.leaf_pages, 300u);
  lmdb_driver::FsckReport overflow = lmdb_driver::check_data_file(overflow_ + "/data.mdb");
  EXPECT_EQ(overflow.main.entries, 27u);
  EXPECT_EQ(overflow.main.overflow_pages, 54u) << "4,146-byte values: 2 overflow pages each";
}

TEST_F(LmdbDriverFsck, RunsBesideTheOpenEnvOfItsOwnCell) {
  // The env this cell made is open (and a workload is running): fsck waits for its transactions and reads the file beside it.
  Outcome o = run_lmdb_cell(R"(
name = "lmdb-fsck-open"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 16
vectors = 2000
[[step]]
op = "spawn-workload"
workload = "mixed"
threads = 2
duration = "300ms"
[[step]]
op = "read"
what = "fsck"
[[step]]
op = "join"
[[step]]
op = "read"
what = "fsck"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)",
                            testing::scratch_dir("open"));
  EXPECT_EQ(o.kind, OutcomeKind::ok) << testing::steps_of(o);
  EXPECT_EQ(o.steps.size(), 6u) << testing::steps_of(o);
}

TEST_F(LmdbDriverFsck, ALeafWhoseEntryCountCannotFitIsNamed) {
  // mp_lower 0xFFFF, the most a 16-bit field holds: (65,535 - 16) / 2 = 32,759 entries, where a 4,096-byte page has room for 2,040 pointers.
  LmdbTestEnv env = read_test_env(records_);
  std::vector<std::uint64_t> path = env.leftmost_path();
  ASSERT_EQ(path.size(), 3u);
  std::uint64_t leaf = path.back();
  env.put(leaf * kFsckTestPage + 12, 2, 0xFFFF);
  std::string message = corrupt_message(damaged_copy(records_, env.bytes, "lower-env"), "lower");
  EXPECT_THAT(message, HasSubstr(fmt::format("page {} (main DB leaf, depth 3): entry count 32,759 in a 4,096-byte page "
                                             "(mp_lower 65,535; at most 2,040 fit)",
                                             leaf)));
  EXPECT_THAT(message, HasSubstr("fsck: 1 problem: ")) << "the totals are not compared against a tree it could not walk whole";
}

TEST_F(LmdbDriverFsck, ABranchChildPastTheFileIsNamed) {
  LmdbTestEnv env = read_test_env(records_);
  std::uint64_t root = env.main(40);
  std::uint64_t node = env.node_offset(root, 1);
  env.put(node, 2, 1'000'000 & 0xffff);  // mn_lo, mn_hi, mn_flags: page 1,000,000
  env.put(node + 2, 2, 1'000'000 >> 16);
  env.put(node + 4, 2, 0);
  std::string message = corrupt_message(damaged_copy(records_, env.bytes, "child-env"), "child");
  EXPECT_THAT(message, HasSubstr(fmt::format("page {} (main DB branch, depth 1): node 1 points to page 1,000,000, past mm_last_pg {} "
                                             "and past the end of data.mdb ({} pages)",
                                             root, format_thousands(env.last_pg()), format_thousands(env.bytes.size() / kFsckTestPage))));
}

TEST_F(LmdbDriverFsck, APageWhoseMpPgnoIsNotItsOwnNumberIsNamed) {
  // LMDB itself never checks mp_pgno on a read: its own reads still work (the triage test shows it).
  LmdbTestEnv env = read_test_env(records_);
  std::uint64_t leaf = env.leftmost_path().back();
  env.put(leaf * kFsckTestPage, 8, 7777);
  std::string message = corrupt_message(damaged_copy(records_, env.bytes, "pgno-env"), "pgno");
  EXPECT_THAT(message, HasSubstr(fmt::format("page {} (main DB leaf, depth 3): mp_pgno says 7,777, not {}", leaf, leaf)));
}

TEST_F(LmdbDriverFsck, BothMetaMagicsBrokenAreNamedWhereLmdbOnlySaysInvalid) {
  LmdbTestEnv env = read_test_env(records_);
  env.put(16, 4, 0);
  env.put(kFsckTestPage + 16, 4, 0);
  std::string dir = damaged_copy(records_, env.bytes, "magic-env");
  std::string message = corrupt_message(dir, "magic");
  EXPECT_THAT(message, HasSubstr("fsck: 2 problems: meta page 0: mm_magic 0x00000000, not LMDB's 0xBEEFC0DE; "
                                 "meta page 1: mm_magic 0x00000000, not LMDB's 0xBEEFC0DE"));
}

TEST_F(LmdbDriverFsck, AFileCutShortSaysHowManyPagesAreMissing) {
  LmdbTestEnv env = read_test_env(records_);
  std::uint64_t pages = env.bytes.size() / kFsckTestPage, kept = pages / 2;
  ASSERT_EQ(pages, env.last_pg() + 1);
  env.bytes.resize(kept * kFsckTestPage);
  std::string message = corrupt_message(damaged_copy(records_, env.bytes, "cut-env"), "cut");
  EXPECT_THAT(message, HasSubstr(fmt::format(" problems: data.mdb is {} bytes, {} pages of 4,096 bytes, but meta page {}'s mm_last_pg {} "
                                             "says {} pages: {} pages are missing",
                                             format_thousands(env.bytes.size()), format_thousands(kept), env.meta,
                                             format_thousands(pages - 1), format_thousands(pages), format_thousands(pages - kept))))
      << "said first, before the pages past the end it explains";
  EXPECT_THAT(message, HasSubstr("past the end of data.mdb"));
}

TEST_F(LmdbDriverFsck, DamageLmdbCrashesOnIsACleanErrorBecauseTheEnvIsNeverOpened) {
  // mm_psize 0 in both metas: mdb_env_open divides by it (SIGFPE, known issue LMDB-1).
  LmdbTestEnv env = read_test_env(records_);
  env.put(40, 4, 0);
  env.put(kFsckTestPage + 40, 4, 0);
  std::string message = corrupt_message(damaged_copy(records_, env.bytes, "psize-env"), "psize");
  EXPECT_THAT(message, HasSubstr("meta page 0: mm_psize 0 is not a power of two from 512 to 32,768"));
  // Cut inside meta page 1 (SIGBUS when LMDB maps it): the two meta pages are not both there.
  env = read_test_env(records_);
  env.bytes.resize(2 * kFsckTestPage - 1);
  message = corrupt_message(damaged_copy(records_, env.bytes, "short-env"), "short");
  EXPECT_THAT(message, HasSubstr("data.mdb is 8,191 bytes, less than the two 4,096-byte meta pages"));
}

// Random damage of a small env, in-process: flipped bytes anywhere, page
// header fields and node offsets set to extremes, the file cut at any length.
// fsck must end (the test's own time bound) with at most 20 sentences; under
// the asan preset every read it makes is checked too.
TEST_F(LmdbDriverFsck, SurvivesHundredsOfRandomDamagesWithinItsBounds) {
  LmdbTestEnv base = read_test_env(overflow_);
  std::string records = testing::read_file(records_ + "/data.mdb");
  std::string dir = testing::scratch_dir("fuzz");
  std::mt19937_64 rng(20240601);
  auto below = [&](std::uint64_t n) { return n ? rng() % n : 0; };
  const std::uint64_t extremes[] = {0, 1, 2, 0xFF, 0xFFFF, 0x8000, 4096, 4095, 0xFFFFFFFF, ~std::uint64_t{0}};
  int flagged = 0;
  auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 400; ++round) {
    std::string bytes = round % 4 == 3 ? records : base.bytes;
    std::uint64_t pages = bytes.size() / kFsckTestPage;
    int damages = 1 + static_cast<int>(below(4));
    for (int d = 0; d < damages && !bytes.empty(); ++d) {
      switch (below(4)) {
        case 0:  // a flipped byte anywhere
          bytes[below(bytes.size())] ^= static_cast<char>(1 + below(255));
          break;
        case 1: {  // a page header or meta field set to an extreme
          std::uint64_t page = below(pages), field = below(2) ? below(16) : below(160);
          std::uint64_t width = std::uint64_t{1} << below(4), at = page * kFsckTestPage + field;
          std::uint64_t v = extremes[below(std::size(extremes))];
          for (std::uint64_t i = 0; i < width && at + i < bytes.size(); ++i) bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
          break;
        }
        case 2: {  // a node offset or a node's header (mn_lo, mn_hi, mn_flags, mn_ksize) set to an extreme
          std::uint64_t page = 2 + below(pages > 2 ? pages - 2 : 1), at = page * kFsckTestPage + 16 + 2 * below(8);
          std::uint64_t node = page * kFsckTestPage + testing::little_endian(bytes, at, 2) + 2 * below(4);
          std::uint64_t target = below(2) ? at : node;
          std::uint64_t v = extremes[below(std::size(extremes))];
          for (std::uint64_t i = 0; i < 2 && target + i < bytes.size(); ++i) bytes[target + i] = static_cast<char>((v >> (8 * i)) & 0xff);
          break;
        }
        default:  // cut anywhere
          bytes.resize(below(bytes.size() + 1));
          pages = bytes.size() / kFsckTestPage;
      }
    }
    testing::write_file(dir + "/data.mdb", bytes);
    lmdb_driver::FsckReport report = lmdb_driver::check_data_file(dir + "/data.mdb");
    EXPECT_LE(report.problems.size(), 20u) << "round " << round;
    for (const auto& p : report.problems) EXPECT_FALSE(p.empty()) << "round " << round;
    EXPECT_FALSE(report.summary().empty());
    if (!report.ok()) ++flagged;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(flagged, 200) << "most random damage is seen";
  EXPECT_LT(seconds, 20.0) << "400 checks of a small env";
}

TEST(LmdbDriver, BadSecondProcessArgsAreInvalidArgument) {
  SKIP_WITHOUT_LMDB_DRIVER();
  int n = 0;
  for (const char* step : {R"(action = "killed-at-commit"
args = { commit = 0 })",
                           R"(action = "killed-at-commit"
args = { commit = 9, commits = 8 })",
                           R"(action = "killed-at-commit"
args = { commit = 2, when = "during" })",
                           R"(action = "killed-at-commit"
args = { comit = 2 })",
                           R"(action = "killed-at-commit"
args = { commit = "two" })",
                           R"(action = "truncate-data"
args = { to = "nowhere" })",
                           R"(action = "truncate-data")",
                           R"(action = "rewrite-data"
args = { with = "ones" })",
                           R"(action = "read-loop"
args = { duration = "soon" })"}) {
    SCOPED_TRACE(step);
    Outcome o = run_lmdb_cell(fmt::format(R"(
name = "lmdb-bad-args"
targets = ["lmdb"]
[[step]]
op = "create"
dim = 8
vectors = 10
[[step]]
op = "second-process"
{}
[expect]
outcome = "error"
)",
                                          step),
                              testing::scratch_dir(fmt::format("bad-args-{}", n++)));
    EXPECT_EQ(std::string(to_string(o.kind)), "error") << testing::steps_of(o);
    ASSERT_TRUE(o.failed_step.has_value()) << testing::steps_of(o);
    EXPECT_EQ(*o.failed_step, 1);
    ASSERT_EQ(o.steps.size(), 2u) << testing::steps_of(o);
    EXPECT_EQ(o.steps.back().code, "invalid-argument") << o.steps.back().message;
  }
}

}  // namespace
}  // namespace crashgate
