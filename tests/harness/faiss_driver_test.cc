// The FAISS driver (targets/faiss): it conforms to the driver protocol, a cell
// that creates, adds, removes, reopens and verifies ends ok for each index
// type, searches beside adds (under the lock FAISS asks for) end ok, its
// --list layout says where the fields of real index files are, damage to a
// header gives a clean error, bad input is invalid-argument, and a save
// killed partway loses the index (FAISS writes it in place).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/driver_listing.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"
#include "harness/support/crashers.h"
#include "harness/support/engine_cells.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

#ifdef CRASHGATE_FAISS_DRIVER
constexpr const char* kFaissDriver = CRASHGATE_FAISS_DRIVER;
#else
constexpr const char* kFaissDriver = "";
#endif

#define SKIP_WITHOUT_FAISS_DRIVER() \
  if (std::string(kFaissDriver).empty()) GTEST_SKIP() << "no FAISS driver in this build (FAISS was not found at configure)"

std::uint64_t fourcc(const char (&s)[5]) { return testing::little_endian(std::string(s, 4), 0, 4); }

// Runs the only cell of a one-cell scenario against the faiss driver, in `work_dir`.
Outcome run_faiss_cell(const std::string& toml, const std::string& work_dir) { return testing::run_one_cell(toml, kFaissDriver, work_dir); }

TEST(FaissDriver, PassesDriverCheck) {
  SKIP_WITHOUT_FAISS_DRIVER();
  Outcome o = testing::run_crashgate(
      {"driver-check", kFaissDriver, "--timeout", "30s", "--work-dir", testing::scratch_dir("faiss-driver-check")});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed")) << testing::output_of(o);
}

// Flat and IVF remove by id; HNSW has no remove_ids, so its remove steps expect `unsupported`.
TEST(FaissDriver, ACellThatCreatesAddsRemovesReopensAndVerifiesEndsOkForEachIndexType) {
  SKIP_WITHOUT_FAISS_DRIVER();
  for (std::string type : {"flat", "hnsw", "ivf"}) {
    SCOPED_TRACE(type);
    bool hnsw = type == "hnsw";
    std::string remove_expect = hnsw ? "expect = \"error:unsupported\"\n" : "";
    Outcome o = run_faiss_cell(fmt::format(R"toml(
name = "faiss-round-trip"
targets = ["faiss"]
[[step]]
op = "create"
metric = "{0}-l2"
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
{1}[[step]]
op = "remove"
count = 10
{1}[[step]]
op = "count"
equals = {2}
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
expect = "{3}"
[expect]
outcome = "ok"
)toml",
                                           type, remove_expect, hnsw ? 352 : 341, hnsw ? "ok" : "error:not-found"),
                               testing::scratch_dir("faiss-round-trip-" + type));
    EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
    EXPECT_EQ(o.steps.size(), 11u) << testing::steps_of(o);
  }
}

// Searchers and an adder under the lock FAISS asks for, and an add step beside them: the index ends whole.
TEST(FaissDriver, SearchesBesideAddsUnderTheLockEndOk) {
  SKIP_WITHOUT_FAISS_DRIVER();
  for (std::string type : {"flat", "hnsw", "ivf"}) {
    SCOPED_TRACE(type);
    Outcome o = run_faiss_cell(fmt::format(R"toml(
name = "faiss-concurrent"
targets = ["faiss"]
[[step]]
op = "create"
metric = "{}-l2"
dim = 16
vectors = 300
[[step]]
op = "spawn-workload"
workload = "mixed"
threads = 3
duration = "600ms"
[[step]]
op = "add"
vectors = 100
[[step]]
op = "search"
queries = 5
[[step]]
op = "join"
[[step]]
op = "verify"
[[step]]
op = "reopen"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)toml",
                                           type),
                               testing::scratch_dir("faiss-concurrent-" + type));
    EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o) << "\n" << o.stderr_excerpt.text();
    EXPECT_EQ(o.steps.size(), 8u) << testing::steps_of(o);
  }
}

// --list layout against real index files of each type: every listed field
// holds what FAISS wrote there, and at(FIELD) walks a file to its last byte.
TEST(FaissDriver, LayoutOffsetsMatchRealIndexFiles) {
  SKIP_WITHOUT_FAISS_DRIVER();
  DriverListing listing = list_from_driver(kFaissDriver, "layout", "file");
  ASSERT_TRUE(listing.error.empty()) << listing.error;
  std::map<std::string, nlohmann::json> files;
  for (const auto& row : listing.rows) files[row["file"].get<std::string>()] = row;
  ASSERT_TRUE(files.count("flat") && files.count("hnsw") && files.count("ivf"));
  for (std::string type : {"flat", "hnsw", "ivf"}) {
    SCOPED_TRACE(type);
    EXPECT_EQ(files[type]["pattern"], "index.faiss");
    std::string dir = testing::scratch_dir("faiss-layout-" + type);
    constexpr std::uint64_t kDim = 12, kCount = 150;
    Outcome o = run_faiss_cell(fmt::format(R"toml(
name = "faiss-layout"
targets = ["faiss"]
[[step]]
op = "create"
metric = "{}-l2"
dim = {}
vectors = {}
[[step]]
op = "truncate"
file = "{}"
to = "end_of({})"
[[step]]
op = "read"
what = "scan"
[expect]
outcome = "ok"
)toml",
                                           type, kDim, kCount, type, type == "ivf" ? "invlists.data" : "id_map.data"),
                               dir);
    ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
    std::string data = testing::read_file(dir + "/store/index.faiss");
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> field;
    for (const auto& f : files[type]["fields"]) field[f["name"]] = {f["offset"], f["width"]};
    auto at = [&](const std::string& name) {
      EXPECT_TRUE(field.count(name)) << type << " lists no field " << name;
      auto [offset, width] = field[name];
      return testing::little_endian(data, offset, width);
    };
    ASSERT_GE(data.size(), files[type]["header_size"].get<std::uint64_t>());
    // The top index's header.
    EXPECT_EQ(at("fourcc"), type == "ivf" ? fourcc("IwFl") : fourcc("IxM2"));
    EXPECT_EQ(at("d"), kDim);
    EXPECT_EQ(at("ntotal"), kCount);
    EXPECT_EQ(at("dummy1"), 1u << 20);
    EXPECT_EQ(at("dummy2"), 1u << 20);
    EXPECT_EQ(at("is_trained"), 1u);
    EXPECT_EQ(at("metric_type"), 1u) << "METRIC_L2";
    if (type == "ivf") {
      EXPECT_EQ(at("nlist"), 16u);
      EXPECT_EQ(at("nprobe"), 4u);
      EXPECT_EQ(at("quantizer.fourcc"), fourcc("IxF2"));
      EXPECT_EQ(at("quantizer.d"), kDim);
      EXPECT_EQ(at("quantizer.ntotal"), 16u) << "the centroids";
      EXPECT_EQ(at("quantizer.metric_type"), 1u);
      EXPECT_EQ(at("quantizer.codes.size"), 16u * kDim) << "floats";
      EXPECT_EQ(field["quantizer.codes.size"].first + 8, files[type]["header_size"].get<std::uint64_t>());
      continue;
    }
    std::string p = type + ".";
    EXPECT_EQ(at(p + "fourcc"), type == "flat" ? fourcc("IxF2") : fourcc("IHNf"));
    EXPECT_EQ(at(p + "d"), kDim);
    EXPECT_EQ(at(p + "ntotal"), kCount);
    EXPECT_EQ(at(p + "dummy1"), 1u << 20);
    EXPECT_EQ(at(p + "is_trained"), 1u);
    EXPECT_EQ(at(p + "metric_type"), 1u);
    if (type == "flat") {
      EXPECT_EQ(at("flat.codes.size"), kCount * kDim) << "floats";
      // After the vectors, the id map: kCount ids, the record ids 0.. in order.
      std::uint64_t id_map = 82 + kCount * kDim * 4;
      EXPECT_EQ(testing::little_endian(data, id_map, 8), kCount);
      EXPECT_EQ(testing::little_endian(data, id_map + 8 + 8 * 7, 8), 7u);
      EXPECT_EQ(data.size(), id_map + 8 + 8 * kCount) << "the id map is the last thing in the file";
    } else {
      EXPECT_EQ(at("hnsw.assign_probas.size"), 8u) << "levels of probability >= 1e-9 for m = 16";
      double p0 = 0;
      std::memcpy(&p0, data.data() + field["hnsw.assign_probas.data"].first, 8);
      EXPECT_NEAR(p0, 15.0 / 16.0, 1e-6) << "level 0's probability, 1 - 1/m";
      EXPECT_EQ(at("hnsw.cum_nneighbor_per_level.size"), 9u);
      EXPECT_EQ(at("hnsw.cum_nneighbor_per_level.data"), 0u);
      EXPECT_EQ(at("hnsw.levels.size"), kCount);
      EXPECT_EQ(field["hnsw.levels.size"].first + 8, files[type]["header_size"].get<std::uint64_t>());
    }
  }
}

// upper(K) and top reach the HNSW graph above level 0: the level-1
// neighbours of the K-th node whose level count is 2 or more, and the entry
// point's neighbours at max_level. Found here by reading the HNSW vectors at
// the offsets the format gives (for m = 16), then checked by corrupting
// through the terms and reading the bytes back.
TEST(FaissDriver, UpperAndTopTermsNameTheNeighboursAboveLevelZero) {
  SKIP_WITHOUT_FAISS_DRIVER();
  constexpr std::uint64_t kCount = 300;
  const std::string create = fmt::format(R"toml(
name = "faiss-upper-terms"
targets = ["faiss"]
[[step]]
op = "create"
metric = "hnsw-l2"
dim = 12
vectors = {}
)toml",
                                         kCount);
  std::string dir = testing::scratch_dir("faiss-upper-clean");
  Outcome o = run_faiss_cell(create + "[expect]\noutcome = \"ok\"\n", dir);
  ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  std::string data = testing::read_file(dir + "/store/index.faiss");
  ASSERT_EQ(testing::little_endian(data, 190, 8), kCount) << "levels.size";
  auto cum = [&](std::uint64_t level) { return testing::little_endian(data, 154 + 4 * level, 4); };
  const std::uint64_t levels = 198, offsets = levels + 4 * kCount + 8;
  ASSERT_EQ(testing::little_endian(data, offsets - 8, 8), kCount + 1) << "offsets.size";
  const std::uint64_t neighbors = offsets + 8 * (kCount + 1) + 8;
  const std::uint64_t ids = testing::little_endian(data, neighbors - 8, 8);
  const std::uint64_t scalars = neighbors + 4 * ids;
  const std::uint64_t entry_point = testing::little_endian(data, scalars, 4), max_level = testing::little_endian(data, scalars + 4, 4);
  ASSERT_GE(max_level, 1u) << "300 nodes with m 16: some node is above level 0";
  ASSERT_LT(entry_point, kCount);
  auto list_at = [&](std::uint64_t node, std::uint64_t level) {
    return neighbors + 4 * (testing::little_endian(data, offsets + 8 * node, 8) + cum(level));
  };
  std::vector<std::uint64_t> uppers;
  for (std::uint64_t i = 0; i < kCount; ++i)
    if (testing::little_endian(data, levels + 4 * i, 4) >= 2) uppers.push_back(list_at(i, 1));
  ASSERT_GE(uppers.size(), 2u);
  const std::uint64_t top = list_at(entry_point, max_level);
  EXPECT_LT(testing::little_endian(data, uppers[1], 4), kCount) << "upper(1)'s first neighbour is a node";

  std::string dir2 = testing::scratch_dir("faiss-upper-forged");
  Outcome t = run_faiss_cell(create + R"toml(
[[step]]
op = "corrupt"
file = "hnsw"
at = "upper(1)"
bytes = 4
value = "u32le:123457"
[[step]]
op = "corrupt"
file = "hnsw"
at = "top + 4"
bytes = 4
value = "u32le:7654321"
[expect]
outcome = "ok"
)toml",
                             dir2);
  ASSERT_EQ(std::string(to_string(t.kind)), "ok") << testing::steps_of(t);
  std::string damaged = testing::read_file(dir2 + "/store/index.faiss");
  EXPECT_EQ(testing::little_endian(damaged, uppers[1], 4), 123457u) << "upper(1): the second upper node's first level-1 neighbour";
  EXPECT_EQ(testing::little_endian(damaged, top + 4, 4), 7654321u) << "top + 4: the entry point's second neighbour at max_level";

  std::string dir3 = testing::scratch_dir("faiss-upper-past");
  Outcome past = run_faiss_cell(create + R"toml(
[[step]]
op = "corrupt"
file = "hnsw"
at = "upper(100000)"
bytes = 4
value = "0"
[expect]
outcome = "ok"
)toml",
                                dir3);
  EXPECT_NE(std::string(to_string(past.kind)), "ok");
  EXPECT_THAT(testing::steps_of(past), HasSubstr("upper(100000)"));
}

// FAISS reads the fourcc first and refuses one it does not know: a zeroed
// fourcc (the top index's or the wrapped one's) is a clean corrupt error at the load.
TEST(FaissDriver, AZeroedFourccIsACleanCorruptErrorAtTheLoad) {
  SKIP_WITHOUT_FAISS_DRIVER();
  for (auto [type, field] : std::vector<std::pair<std::string, std::string>>{
           {"flat", "fourcc"}, {"flat", "flat.fourcc"}, {"hnsw", "hnsw.fourcc"}, {"ivf", "quantizer.fourcc"}}) {
    SCOPED_TRACE(field);
    Outcome o = run_faiss_cell(fmt::format(R"toml(
name = "faiss-no-fourcc"
targets = ["faiss"]
[[step]]
op = "create"
metric = "{0}-l2"
dim = 8
vectors = 100
[[step]]
op = "corrupt"
file = "{0}"
at = "field({1})"
bytes = 4
value = 0
[[step]]
op = "read"
what = "open"
[expect]
outcome = "error"
)toml",
                                           type, field),
                               testing::scratch_dir("faiss-no-fourcc-" + type));
    EXPECT_EQ(std::string(to_string(o.kind)), "error") << testing::steps_of(o);
    ASSERT_TRUE(o.failed_step.has_value()) << testing::steps_of(o);
    EXPECT_EQ(*o.failed_step, 2);
    ASSERT_EQ(o.steps.size(), 3u) << testing::steps_of(o);
    EXPECT_EQ(o.steps.back().code, "corrupt");
    EXPECT_THAT(o.steps.back().message, HasSubstr("not recognized")) << testing::steps_of(o);
  }
}

// The import op: each index type another cell made, imported by a second
// cell. The header says the type (its fourccs) and d; the files are copied,
// not touched; the model is empty.
TEST(FaissDriver, AnIndexAnotherCellMadeIsImportedWithTheTypeAndDimItsHeaderSays) {
  SKIP_WITHOUT_FAISS_DRIVER();
  for (const char* type : {"flat", "hnsw", "ivf"}) {
    std::string made = testing::scratch_dir(std::string("made-") + type);
    Outcome o = run_faiss_cell(fmt::format(R"toml(
name = "faiss-made"
targets = ["faiss"]
[[step]]
op = "create"
metric = "{}-l2"
dim = 16
vectors = 300
[[step]]
op = "add"
vectors = 50
[[step]]
op = "sync"
[[step]]
op = "count"
equals = 350
[expect]
outcome = "ok"
)toml",
                                           type),
                               made);
    ASSERT_EQ(std::string(to_string(o.kind)), "ok") << type << ": " << testing::steps_of(o);
    std::string source = made + "/store";
    auto before = testing::files_of(source);
    o = run_faiss_cell(testing::import_scenario("faiss", source, "", R"toml(
[[step]]
op = "read"
what = "open"
[[step]]
op = "read"
what = "count"
[[step]]
op = "count"
equals = 350
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
vectors = 2
[[step]]
op = "reopen"
[[step]]
op = "verify"
[[step]]
op = "count"
equals = 352
)toml"),
                       testing::scratch_dir(std::string("read-") + type));
    EXPECT_EQ(std::string(to_string(o.kind)), "ok") << type << ": " << testing::steps_of(o);
    EXPECT_EQ(o.steps.size(), 12u) << type << ": " << testing::steps_of(o);
    EXPECT_EQ(testing::files_of(source), before) << type << ": the source directory is only read";

    // The header says the type and d: a step that says otherwise is refused, naming both.
    const char* other = std::string(type) == "flat" ? "hnsw-l2" : "flat-l2";
    o = run_faiss_cell(testing::import_scenario("faiss", source, fmt::format("metric = \"{}\"", other)),
                       testing::scratch_dir(std::string("wrong-type-") + type));
    ASSERT_EQ(o.steps.size(), 1u) << type << ": " << testing::steps_of(o);
    EXPECT_EQ(o.steps[0].code, "invalid-argument") << type;
    EXPECT_THAT(o.steps[0].message, HasSubstr(fmt::format("import: metric = {}, but index.faiss's fourccs and metric_type says {}-l2", other, type)));
    o = run_faiss_cell(testing::import_scenario("faiss", source, "dim = 8"), testing::scratch_dir(std::string("wrong-dim-") + type));
    ASSERT_EQ(o.steps.size(), 1u) << type << ": " << testing::steps_of(o);
    EXPECT_THAT(o.steps[0].message, HasSubstr("import: dim = 8, but index.faiss's d says 16")) << type;

    // Cut to half: read_index refuses it in the step that loads it (faiss-cut-in-data's clean error).
    std::string field = testing::scratch_dir(std::string("field-") + type);
    testing::copy_with_half(source, field, "index.faiss");
    o = run_faiss_cell(testing::import_scenario("faiss", field, "", "[[step]]\nop = \"read\"\nwhat = \"count\""),
                       testing::scratch_dir(std::string("halved-") + type));
    ASSERT_EQ(o.steps.size(), 2u) << type << ": " << testing::steps_of(o);
    EXPECT_EQ(o.steps[0].status, StepStatus::ok) << type;
    EXPECT_EQ(std::string(to_string(o.kind)), "error") << type << ": " << testing::steps_of(o);
    EXPECT_EQ(o.steps[1].code, "corrupt") << type;
  }
  std::string missing = testing::scratch_dir("missing") + "/no-such-dir";
  Outcome o = run_faiss_cell(testing::import_scenario("faiss", missing, "", "[[step]]\nop = \"count\""), testing::scratch_dir("missing-cell"));
  ASSERT_EQ(o.steps.size(), 1u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].code, "not-found");
  EXPECT_THAT(o.steps[0].message, HasSubstr(missing));
}

TEST(FaissDriver, BadInputIsInvalidArgument) {
  SKIP_WITHOUT_FAISS_DRIVER();
  Outcome o = run_faiss_cell(R"toml(
name = "faiss-bad-input"
targets = ["faiss"]
[[step]]
op = "create"
metric = "hnsw-l2"
hnsw = false
expect = "error:invalid-argument"
[[step]]
op = "create"
metric = "flat-l2"
m = 8
expect = "error:invalid-argument"
[[step]]
op = "create"
dim = 8
vectors = 20
[[step]]
op = "add"
vectors = 1
metadata = { lang = "py" }
expect = "error:invalid-argument"
[[step]]
op = "add"
ids = [3]
expect = "error:invalid-argument"
[[step]]
op = "search"
ef = 32
expect = "error:invalid-argument"
[[step]]
op = "corrupt"
file = "hnsw"
at = "field(hnsw.d)"
expect = "error:invalid-argument"
[[step]]
op = "corrupt"
file = "flat"
at = "at(no.such.field)"
expect = "error:invalid-argument"
[[step]]
op = "second-process"
action = "killed-during-save"
args = { fraction = 2 }
expect = "error:invalid-argument"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)toml",
                             testing::scratch_dir("faiss-bad-input"));
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  EXPECT_EQ(o.steps.size(), 10u) << testing::steps_of(o);
}

// write_index truncates the file and writes it again: a save killed halfway
// leaves neither index (a finding about FAISS, which the test holds), and one
// that ends whole loads and verifies, with the records the second process added.
TEST(FaissDriver, ASaveKilledHalfwayLosesTheIndexAndAWholeOneKeepsIt) {
  SKIP_WITHOUT_FAISS_DRIVER();
  for (std::string fraction : {"0.5", "1"}) {
    SCOPED_TRACE(fraction);
    Outcome o = run_faiss_cell(fmt::format(R"toml(
name = "faiss-killed-save"
targets = ["faiss"]
[[step]]
op = "create"
metric = "flat-l2"
dim = 16
vectors = 500
[[step]]
op = "second-process"
action = "killed-during-save"
args = {{ fraction = "{}", add = 20 }}
[[step]]
op = "count"
equals = 520
[expect]
outcome = "ok|error"
)toml",
                                           fraction),
                               testing::scratch_dir("faiss-killed-save"));
    if (fraction == "1") {
      EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
      EXPECT_EQ(o.steps.size(), 3u) << testing::steps_of(o);
    } else {
      EXPECT_EQ(std::string(to_string(o.kind)), "error") << testing::steps_of(o);
      ASSERT_EQ(o.steps.size(), 2u) << testing::steps_of(o);
      EXPECT_EQ(o.steps.back().code, "corrupt");
      EXPECT_THAT(o.steps.back().message, HasSubstr("the index is lost"));
    }
  }
}

}  // namespace
}  // namespace crashgate
