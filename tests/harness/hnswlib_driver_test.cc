// The hnswlib driver (targets/hnswlib): it conforms to the driver protocol, a
// cell that writes, removes, reopens and verifies ends ok under each metric,
// threads adding, searching, removing and resizing under the driver's lock
// leave a whole index, its --list layout says where the fields of a real
// saved index are, hnswlib refuses a forged element count cleanly, a process
// killed during saveIndex loses the index (hnswlib saves in place), and bad
// input is invalid-argument.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/driver_listing.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/outcome.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"
#include "harness/support/crashers.h"
#include "harness/support/engine_cells.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

#ifdef CRASHGATE_HNSWLIB_DRIVER
constexpr const char* kHnswlibDriver = CRASHGATE_HNSWLIB_DRIVER;
#else
constexpr const char* kHnswlibDriver = "";
#endif

#define SKIP_WITHOUT_HNSWLIB_DRIVER() \
  if (std::string(kHnswlibDriver).empty()) GTEST_SKIP() << "no hnswlib driver in this build (hnswlib was not found at configure)"

// Runs the only cell of a one-cell scenario against the hnswlib driver, in `work_dir`.
Outcome run_hnswlib_cell(const std::string& toml, const std::string& work_dir) { return testing::run_one_cell(toml, kHnswlibDriver, work_dir); }

TEST(HnswlibDriver, PassesDriverCheck) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  Outcome o = testing::run_crashgate(
      {"driver-check", kHnswlibDriver, "--timeout", "30s", "--work-dir", testing::scratch_dir("hnswlib-driver-check")});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed")) << testing::output_of(o);
}

// Under every metric (cosine: the vectors normalized on the way in, compared
// in that form), records added, updated, removed, saved and loaded again come
// back bit for bit, and a removed one is gone.
TEST(HnswlibDriver, ACellThatCreatesAddsRemovesReopensAndVerifiesEndsOkUnderEveryMetric) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  for (const char* metric : {"l2", "ip", "cosine"}) {
    Outcome o = run_hnswlib_cell(fmt::format(R"toml(
name = "hnswlib-round-trip"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 16
vectors = 300
metric = "{}"
[[step]]
op = "add"
vectors = 50
[[step]]
op = "add"
ids = [1000, 1001, 7]
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
[[step]]
op = "remove"
ids = [5]
expect = "error:not-found"
[expect]
outcome = "ok"
)toml",
                                             metric),
                                 testing::scratch_dir(std::string("round-trip-") + metric));
    EXPECT_EQ(std::string(to_string(o.kind)), "ok") << metric << ": " << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
    EXPECT_EQ(o.steps.size(), 12u) << metric << ": " << testing::steps_of(o);
  }
}

// Threads adding, searching, marking deleted and growing the index
// (resizeIndex) beside the steps, every call under the driver's lock (the
// `serialized` workload: no two hnswlib calls at once, so TSan sees no race of
// hnswlib's): the model and the index agree after join and after a reload,
// and the index grew past its first capacity.
TEST(HnswlibDriver, SerializedWorkloadOfAddsSearchesRemovesAndResizesLeavesAWholeIndex) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  std::string dir = testing::scratch_dir("serialized");
  Outcome o = run_hnswlib_cell(R"toml(
name = "hnswlib-serialized"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 8
vectors = 100
[[step]]
op = "spawn-workload"
workload = "serialized"
threads = 3
duration = "800ms"
[[step]]
op = "add"
vectors = 50
[[step]]
op = "search"
queries = 20
[[step]]
op = "join"
[[step]]
op = "verify"
[[step]]
op = "reopen"
[[step]]
op = "verify"
[[step]]
op = "read"
what = "scan"
[expect]
outcome = "ok"
)toml",
                               dir);
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
  EXPECT_EQ(o.steps.size(), 9u) << testing::steps_of(o);
  std::string index = testing::read_file(dir + "/store/index.bin");
  ASSERT_GE(index.size(), 96u);
  EXPECT_GT(testing::little_endian(index, 16, 8), 150u) << "cur_element_count: the workload's adder added records";
  EXPECT_GT(testing::little_endian(index, 8, 8), 150u) << "max_elements: the index grew past create's 100 and the add step's 150";
}

// --list layout against a real index: every header field read back at its
// offset is what the driver created (dim 12, M 8, ef_construction 50, 40
// records), element 0's block (slot(0)) holds record 0, the link-list
// section ends the file, and the driver's terms (label(N), vector(N),
// slot(N) + 2) name the bytes the format puts there.
TEST(HnswlibDriver, LayoutOffsetsMatchARealIndex) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  DriverListing listing = list_from_driver(kHnswlibDriver, "layout", "file");
  ASSERT_TRUE(listing.error.empty()) << listing.error;
  ASSERT_EQ(listing.rows.size(), 1u);
  const nlohmann::json& file = listing.rows[0];
  EXPECT_EQ(file["file"], "index");
  EXPECT_EQ(file["pattern"], "index.bin");
  EXPECT_EQ(file["header_size"], 96u);
  EXPECT_EQ(file["slot_base"], 96u);
  EXPECT_EQ(file["slot_size_field"], "size_data_per_element");
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> fields;
  for (const auto& f : file["fields"]) fields[f["name"].get<std::string>()] = {f["offset"], f["width"]};
  EXPECT_EQ(fields.size(), 13u) << "the 13 fields of saveIndex's header";

  std::string dir = testing::scratch_dir("layout-index");
  Outcome o = run_hnswlib_cell(R"toml(
name = "hnswlib-layout"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 12
vectors = 40
m = 8
ef_construction = 50
[[step]]
op = "remove"
ids = [0]
[[step]]
op = "sync"
[expect]
outcome = "ok"
)toml",
                               dir);
  ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  std::string index = testing::read_file(dir + "/store/index.bin");
  auto at = [&](const std::string& name) {
    auto it = fields.find(name);
    if (it == fields.end()) {
      ADD_FAILURE() << "the layout has no field " << name;
      return std::uint64_t{0};
    }
    return testing::little_endian(index, it->second.first, it->second.second);
  };
  const std::uint64_t dim = 12, m = 8, block = 4 + 2 * m * 4 + dim * 4 + 8;
  EXPECT_EQ(at("offsetLevel0"), 0u);
  EXPECT_EQ(at("max_elements"), 100u) << "create's capacity: max(vectors, 100)";
  EXPECT_EQ(at("cur_element_count"), 40u);
  EXPECT_EQ(at("size_data_per_element"), block);
  EXPECT_EQ(at("offsetData"), 4 + 2 * m * 4);
  EXPECT_EQ(at("label_offset"), 4 + 2 * m * 4 + dim * 4);
  EXPECT_LT(at("maxlevel"), 16u);
  EXPECT_LT(at("enterpoint_node"), 40u);
  EXPECT_EQ(at("maxM"), m);
  EXPECT_EQ(at("maxM0"), 2 * m);
  EXPECT_EQ(at("M"), m);
  std::uint64_t mult_bits = at("mult");
  double mult = 0;
  std::memcpy(&mult, &mult_bits, sizeof mult);
  EXPECT_DOUBLE_EQ(mult, 1 / std::log(double(m)));
  EXPECT_EQ(at("ef_construction"), 50u);
  // Element 0's block, slot(0): its link count, its DELETE_MARK, its label.
  EXPECT_GE(testing::little_endian(index, 96, 2), 1u) << "element 0's level-0 link count";
  EXPECT_LE(testing::little_endian(index, 96, 2), 2 * m);
  EXPECT_EQ(testing::little_endian(index, 98, 1), 1u) << "record 0 was removed: markDelete's DELETE_MARK";
  EXPECT_EQ(testing::little_endian(index, 96 + at("label_offset"), 8), 0u) << "element 0's label: id 0";
  EXPECT_EQ(testing::little_endian(index, 96 + 39 * block + at("label_offset"), 8), 39u) << "element 39's label: id 39";
  // The link-list section: a u32 byte count per element, then its lists; the file ends with the last.
  std::uint64_t links = 96 + 40 * block, end = links;
  for (int i = 0; i < 40; ++i) {
    std::uint64_t bytes = testing::little_endian(index, end, 4);
    EXPECT_EQ(bytes % (4 + m * 4), 0u) << "element " << i << "'s upper levels are whole link lists";
    end += 4 + bytes;
  }
  EXPECT_EQ(index.size(), end);
  // The driver's terms name the same places: corrupting label(39) and
  // linklist(39) with the driver changes the bytes found here.
  std::string dir2 = testing::scratch_dir("layout-terms");
  Outcome t = run_hnswlib_cell(R"toml(
name = "hnswlib-layout-terms"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 12
vectors = 40
m = 8
ef_construction = 50
[[step]]
op = "corrupt"
file = "index"
at = "label(39)"
bytes = 8
value = "u64le:123456789"
[[step]]
op = "corrupt"
file = "index"
at = "vector(1)"
bytes = 4
value = "u32le:7"
[[step]]
op = "corrupt"
file = "index"
at = "slot(2) + 2"
bytes = 1
value = "1"
[expect]
outcome = "ok"
)toml",
                               dir2);
  ASSERT_EQ(std::string(to_string(t.kind)), "ok") << testing::steps_of(t);
  std::string damaged = testing::read_file(dir2 + "/store/index.bin");
  EXPECT_EQ(testing::little_endian(damaged, 96 + 39 * block + 4 + 2 * m * 4 + dim * 4, 8), 123456789u) << "label(39)";
  EXPECT_EQ(testing::little_endian(damaged, 96 + 1 * block + 4 + 2 * m * 4, 4), 7u) << "vector(1)";
  EXPECT_EQ(testing::little_endian(damaged, 96 + 2 * block + 2, 1), 1u) << "slot(2) + 2: element 2's DELETE_MARK";
}

// The terms that reach the upper levels: upper(K) is the level-1 list of the
// K-th element that has upper levels, top the entry point's list at maxlevel.
// Found here by walking the link-list section of a real index independently,
// then checked by corrupting through the terms and reading the bytes back.
TEST(HnswlibDriver, UpperAndTopTermsNameTheUpperLevelLinkLists) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  const char* create = R"toml(
name = "hnswlib-upper-terms"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 12
vectors = 200
m = 8
ef_construction = 50
)toml";
  std::string dir = testing::scratch_dir("upper-terms-clean");
  Outcome o = run_hnswlib_cell(std::string(create) + "[expect]\noutcome = \"ok\"\n", dir);
  ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  std::string index = testing::read_file(dir + "/store/index.bin");
  const std::uint64_t dim = 12, m = 8, block = 4 + 2 * m * 4 + dim * 4 + 8, list = 4 + m * 4;
  std::uint64_t maxlevel = testing::little_endian(index, 48, 4), ep = testing::little_endian(index, 52, 4);
  ASSERT_GE(maxlevel, 1u) << "200 elements with M 8: some element is above level 0";
  std::vector<std::uint64_t> uppers;  // each element's level-1 list, for elements with upper levels
  std::uint64_t at = 96 + 200 * block, top = 0;
  for (std::uint64_t i = 0; i < 200; ++i) {
    std::uint64_t bytes = testing::little_endian(index, at, 4);
    if (bytes != 0) uppers.push_back(at + 4);
    if (i == ep) {
      ASSERT_EQ(bytes, maxlevel * list) << "the entry point has a list at every level up to maxlevel";
      top = at + 4 + (maxlevel - 1) * list;
    }
    at += 4 + bytes;
  }
  ASSERT_GE(uppers.size(), 3u);
  EXPECT_LE(testing::little_endian(index, uppers[1], 2), m) << "upper(1) is a link count of at most maxM";
  EXPECT_LE(testing::little_endian(index, top, 2), m) << "top is a link count of at most maxM";

  std::string dir2 = testing::scratch_dir("upper-terms-forged");
  Outcome t = run_hnswlib_cell(std::string(create) + R"toml(
[[step]]
op = "corrupt"
file = "index"
at = "upper(1) + 4"
bytes = 4
value = "u32le:123457"
[[step]]
op = "corrupt"
file = "index"
at = "top"
bytes = 2
value = "255"
[expect]
outcome = "ok"
)toml",
                               dir2);
  ASSERT_EQ(std::string(to_string(t.kind)), "ok") << testing::steps_of(t);
  std::string damaged = testing::read_file(dir2 + "/store/index.bin");
  EXPECT_EQ(testing::little_endian(damaged, uppers[1] + 4, 4), 123457u) << "upper(1) + 4: the second upper element's first link";
  EXPECT_EQ(testing::little_endian(damaged, top, 2), 0xFFFFu) << "top: the entry point's link count at maxlevel";

  // A K past the elements with upper levels is not a place: the step says so.
  std::string dir3 = testing::scratch_dir("upper-terms-past");
  Outcome past = run_hnswlib_cell(std::string(create) + R"toml(
[[step]]
op = "corrupt"
file = "index"
at = "upper(100000)"
bytes = 4
value = "0"
[expect]
outcome = "ok"
)toml",
                                  dir3);
  EXPECT_NE(std::string(to_string(past.kind)), "ok");
  EXPECT_NE(testing::steps_of(past).find("upper(100000)"), std::string::npos) << testing::steps_of(past);
}

// loadIndex checks that the link-list section ends where the file does: an
// element count one too many (or one too few) is refused with a clean
// exception, "Index seems to be corrupted or unsupported", a corrupt error.
TEST(HnswlibDriver, ForgedElementCountIsACleanCorruptErrorAtLoad) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  for (const char* count : {"199", "201", "0"}) {
    Outcome o = run_hnswlib_cell(fmt::format(R"toml(
name = "hnswlib-forged-count"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 8
vectors = 200
[[step]]
op = "corrupt"
file = "index"
at = "field(cur_element_count)"
bytes = 8
value = "u64le:{}"
[[step]]
op = "read"
what = "open"
[expect]
outcome = "error"
)toml",
                                             count),
                                 testing::scratch_dir(std::string("forged-count-") + count));
    EXPECT_EQ(std::string(to_string(o.kind)), "error") << count << ": " << testing::steps_of(o);
    ASSERT_EQ(o.steps.size(), 3u) << count << ": " << testing::steps_of(o);
    EXPECT_EQ(o.steps.back().code, "corrupt") << count;
    EXPECT_THAT(o.steps.back().message, HasSubstr("loadIndex: Index seems to be corrupted or unsupported")) << count;
  }
}

// The documented crash: maxM_ all ones makes size_links_per_element_
// (maxM_ * 4 + 4) wrap to 0, and loadIndex divides each element's link-list
// byte count by it (element_levels_[i] = linkListSize / size_links_per_element_):
// a division by zero inside loadIndex, SIGFPE (UBSan's integer-divide-by-zero
// under asan). hnswlib 0.6.2's finding, kept as a test so that a fixed hnswlib
// (or a driver that stops reaching it) is noticed.
TEST(HnswlibDriver, AllOnesMaxMCrashesLoadIndexWithADivisionByZero) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  Outcome o = run_hnswlib_cell(R"toml(
name = "hnswlib-maxm-ones"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 16
vectors = 500
[[step]]
op = "corrupt"
file = "index"
at = "field(maxM)"
bytes = 8
value = 255
[[step]]
op = "read"
what = "open"
[expect]
outcome = "signal"
)toml",
                               testing::scratch_dir("maxm-ones"));
  std::string kind(to_string(o.kind));
  EXPECT_TRUE(kind == "signal" || kind == "ubsan") << kind << ": " << testing::steps_of(o);
  if (kind == "signal") EXPECT_EQ(signal_name(o.signal.value_or(0)), "SIGFPE") << testing::steps_of(o);
  ASSERT_TRUE(o.failed_step.has_value()) << testing::steps_of(o);
  EXPECT_EQ(*o.failed_step, 2) << "the load: " << testing::steps_of(o);
}

// hnswlib saves in place (std::ofstream truncates the file first): a process
// killed half way through saveIndex leaves a file loadIndex refuses, and the
// index is lost. A save that completes keeps the child's records.
TEST(HnswlibDriver, AProcessKilledDuringSaveIndexLosesTheIndex) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  Outcome killed = run_hnswlib_cell(R"toml(
name = "hnswlib-killed-during-save"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 8
vectors = 300
[[step]]
op = "second-process"
action = "killed-during-save"
args = { fraction = 0.5, vectors = 100 }
[[step]]
op = "read"
what = "open"
expect = "error:corrupt"
[expect]
outcome = "ok"
)toml",
                                    testing::scratch_dir("killed-during-save"));
  EXPECT_EQ(std::string(to_string(killed.kind)), "ok") << testing::steps_of(killed) << "\n" << killed.stderr_excerpt.text();
  EXPECT_EQ(killed.steps.size(), 3u) << testing::steps_of(killed);  // the load's corrupt error is the step's expect: else wrong-result

  Outcome saved = run_hnswlib_cell(R"toml(
name = "hnswlib-save-completes"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 8
vectors = 300
[[step]]
op = "second-process"
action = "killed-during-save"
args = { fraction = 1, vectors = 100 }
[[step]]
op = "verify"
[[step]]
op = "count"
equals = 400
[expect]
outcome = "ok"
)toml",
                                   testing::scratch_dir("save-completes"));
  EXPECT_EQ(std::string(to_string(saved.kind)), "ok") << testing::steps_of(saved) << "\n" << saved.stderr_excerpt.text();
  EXPECT_EQ(saved.steps.size(), 4u) << testing::steps_of(saved);
}

// What the scenario asks wrongly is invalid-argument, and the driver goes on:
// an unknown layout field or term, a value of the wrong width, metadata
// hnswlib cannot keep, a filtered search, hnsw = false, an unknown or
// malformed second-process argument.
// The import op: an index another cell made, imported by a second cell. Its
// header says the dimension; the files are copied, not touched; the record
// model is empty, so search, scan and verify accept the index's own labels.
class HnswlibDriverImport : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_HNSWLIB_DRIVER();
    std::string made = testing::scratch_dir("made");
    Outcome o = run_hnswlib_cell(R"toml(
name = "hnswlib-made"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 16
vectors = 300
metric = "ip"
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
  Outcome import_cell(const std::string& keys, const std::string& steps, const std::string& name) {
    return run_hnswlib_cell(testing::import_scenario("hnswlib", source_, keys, steps), testing::scratch_dir(name));
  }
  std::string source_;
};

TEST_F(HnswlibDriverImport, AnIndexAnotherCellMadeOpensCountsSearchesAndScans) {
  auto before = testing::files_of(source_);
  Outcome o = import_cell("metric = \"ip\"", R"toml(
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
what = "search"
[[step]]
op = "read"
what = "scan"
[[step]]
op = "verify"
[[step]]
op = "add"
ids = [1000]
[[step]]
op = "add"
vectors = 2
[[step]]
op = "reopen"
[[step]]
op = "verify"
[[step]]
op = "count"
equals = 352
)toml",
                          "read");
  // verify checks the records added since (the files' own are unknown to the model); new ids pass the index's labels.
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  EXPECT_EQ(o.steps.size(), 13u) << testing::steps_of(o);
  EXPECT_EQ(testing::files_of(source_), before) << "the source directory is only read";
}

TEST_F(HnswlibDriverImport, KeysTheHeaderContradictsAndAMissingFromAreCleanErrors) {
  Outcome o = import_cell("dim = 32", "", "wrong-dim");
  ASSERT_EQ(o.steps.size(), 1u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].code, "invalid-argument");
  EXPECT_THAT(o.steps[0].message, HasSubstr("import: dim = 32, but index.bin's label_offset - offsetData (4 bytes a value) says 16"));
  std::string missing = source_ + "/no-such-dir";
  o = run_hnswlib_cell(testing::import_scenario("hnswlib", missing, "", "[[step]]\nop = \"count\""), testing::scratch_dir("missing"));
  EXPECT_EQ(std::string(to_string(o.kind)), "error") << testing::steps_of(o);
  ASSERT_EQ(o.steps.size(), 1u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].code, "not-found");
  EXPECT_THAT(o.steps[0].message, HasSubstr(missing));
}

TEST_F(HnswlibDriverImport, AHalvedIndexIsRefusedWhereItIsLoadedNotAtTheImport) {
  std::string field = testing::scratch_dir("field");
  testing::copy_with_half(source_, field, "index.bin");
  Outcome o = run_hnswlib_cell(testing::import_scenario("hnswlib", field, "", "[[step]]\nop = \"read\"\nwhat = \"count\""),
                               testing::scratch_dir("halved"));
  ASSERT_GE(o.steps.size(), 2u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].status, StepStatus::ok) << testing::steps_of(o);
  // loadIndex checks the file's size against the header: corrupt, as hnswlib-truncated's cuts past the header are.
  EXPECT_EQ(std::string(to_string(o.kind)), "error") << testing::steps_of(o);
  EXPECT_EQ(o.steps[1].code, "corrupt") << testing::steps_of(o);
}

TEST(HnswlibDriver, BadInputIsInvalidArgument) {
  SKIP_WITHOUT_HNSWLIB_DRIVER();
  Outcome o = run_hnswlib_cell(R"toml(
name = "hnswlib-bad-input"
targets = ["hnswlib"]
[[step]]
op = "create"
dim = 8
vectors = 20
[[step]]
op = "corrupt"
file = "index"
at = "field(no_such_field)"
expect = "error:invalid-argument"
[[step]]
op = "truncate"
file = "index"
to = "label(zero)"
expect = "error:invalid-argument"
[[step]]
op = "corrupt"
file = "index"
at = "field(maxlevel)"
bytes = 4
value = "u64le:1"
expect = "error:invalid-argument"
[[step]]
op = "add"
vectors = 2
metadata = { lang = "py" }
expect = "error:invalid-argument"
[[step]]
op = "search"
filter = "lang = 'py'"
expect = "error:invalid-argument"
[[step]]
op = "second-process"
action = "killed-during-save"
args = { fraction = 0.5, speed = 3 }
expect = "error:invalid-argument"
[[step]]
op = "second-process"
action = "killed-during-save"
args = { fraction = 2 }
expect = "error:invalid-argument"
[[step]]
op = "create"
store = "other"
hnsw = false
expect = "error:invalid-argument"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)toml",
                               testing::scratch_dir("bad-input"));
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
  // Each bad step's expect is error:invalid-argument: any other end would have made the cell wrong-result.
  EXPECT_EQ(o.steps.size(), 10u) << testing::steps_of(o);
}

}  // namespace
}  // namespace crashgate
