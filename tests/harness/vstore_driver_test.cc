// The vstore driver through the real runner and observers: the field's crashes,
// replayed as scenario cells, come back classified and attributed exactly.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "crashgate/driver_protocol.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"
#include "harness/support/engine_cells.h"

namespace crashgate {
namespace {


class VstoreDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / fmt::format("driver-test-{}-{}", ::getpid(), counter_++);
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Runs the only cell of a one-cell scenario.
  Outcome run(const std::string& toml) {
    ScenarioParse parsed = parse_scenario(toml, "inline.toml");
    EXPECT_TRUE(parsed.errors.empty()) << (parsed.errors.empty() ? "" : parsed.errors[0].text());
    if (!parsed.scenario) return {};
    std::vector<Cell> cells = expand_cells(*parsed.scenario, 7);
    EXPECT_EQ(cells.size(), 1u);
    Checked<RunSpec> spec = cell_run_spec(cells.at(0), {CRASHGATE_VSTORE_DRIVER}, root_.string());
    EXPECT_TRUE(spec.ok()) << spec.error();
    return run_observed(*spec);
  }

  std::filesystem::path root_;
  static inline int counter_ = 0;
};

TEST_F(VstoreDriver, TruncatedVectorsFileIsACleanCorruptErrorOnTheCountStep) {
  Outcome o = run(R"(
name = "truncated-vectors"
targets = ["vstore"]
builds = ["release"]
[[step]]
op = "create"
dim = 16
vectors = 500
[[step]]
op = "truncate"
file = "vectors"
to = "slot(17)+5"
[[step]]
op = "count"
[expect]
outcome = "error"
code = "corrupt"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "error") << o.detail;
  ASSERT_TRUE(o.failed_step.has_value());
  EXPECT_EQ(*o.failed_step, 2);
  EXPECT_NE(o.detail.find("corrupt"), std::string::npos) << o.detail;
  EXPECT_EQ(o.engine, (EngineId{"vstore", CRASHGATE_PROJECT_VERSION})) << "the driver's hello names the engine it ran";
}

TEST_F(VstoreDriver, UnvalidatedHeaderReplaysReport000AsSigbusPastTheEndOfVectorsBin) {
  if (!VSTORE_HAS_REGRESSIONS) GTEST_SKIP() << "regression switches are not compiled into this build";

  Outcome o = run(R"(
name = "truncated-count"
targets = ["vstore"]
builds = ["debug"]
regression = "unvalidated-header"
[[step]]
op = "create"
dim = 16
vectors = 2000
[[step]]
op = "truncate"
file = "vectors"
to = "0"
[[step]]
op = "count"
[expect]
outcome = "signal"
signal = "SIGBUS"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "signal") << o.detail;
  ASSERT_TRUE(o.signal.has_value());
  EXPECT_EQ(signal_name(*o.signal), "SIGBUS");
  ASSERT_TRUE(o.attribution.has_value()) << o.detail;
  EXPECT_TRUE(o.attribution->past_eof) << o.attribution->description;
  EXPECT_NE(o.attribution->file.find("vectors-000001.bin"), std::string::npos) << o.attribution->file;
  EXPECT_EQ(o.attribution->file_size, 0u);
  ASSERT_TRUE(o.failed_step.has_value());
  EXPECT_EQ(*o.failed_step, 2) << "the count step died";
  bool count_frame = false;
  for (const Thread& t : o.threads)
    for (const Frame& f : t.frames) count_frame |= f.function.find("StoreImpl::count") != std::string::npos;
  EXPECT_TRUE(count_frame) << o.crash_state;
}

TEST_F(VstoreDriver, RecursiveFilterOverflowsTheTwoMiBWorkerLikeReport003) {
  if (!VSTORE_HAS_REGRESSIONS) GTEST_SKIP() << "regression switches are not compiled into this build";

  Outcome o = run(R"(
name = "huge-or-delete"
targets = ["vstore"]
builds = ["debug"]
regression = "recursive-filter"
[limits]
worker_stack = "2MiB"
[[step]]
op = "create"
dim = 8
vectors = 100
[[step]]
op = "delete"
filter = "file_path = 'src/mcp_vector_search/module_000000/file_%i.py'"
clauses = 31985
[expect]
outcome = "stack-overflow"
)");
  EXPECT_EQ(o.failed_step, 1);
  std::string kind(to_string(o.kind));
  if (kind == "stack-overflow" && o.attribution && o.attribution->stack_guard) {
    // A plain build: the fault lies in the worker's stack guard.
    ASSERT_TRUE(o.attribution->thread_stack_size.has_value());
    EXPECT_LE(*o.attribution->thread_stack_size, 2u << 20) << "the 2 MiB worker, not the main thread";
    return;
  }
  // ASan reports the overflow itself; under TSan the kernel's siginfo for the
  // overflow carries no address (SI_KERNEL), so the recursion is the evidence.
  EXPECT_TRUE(kind == "stack-overflow" || (kind == "signal" && o.signal && signal_name(*o.signal) == "SIGSEGV")) << kind << ": " << o.detail;
  ASSERT_GE(o.crashing_thread, 0);
  size_t recursive = 0;
  for (const Frame& f : o.threads[o.crashing_thread].frames) recursive += f.function.find("recursive") != std::string::npos;
  EXPECT_GE(recursive, 50u) << o.crash_state;
}

TEST_F(VstoreDriver, HardenedEngineDeletesTheFieldsOrChainOnTheSameWorker) {
  Outcome o = run(R"(
name = "huge-or-delete-hardened"
targets = ["vstore"]
builds = ["release"]
[limits]
worker_stack = "2MiB"
[[step]]
op = "create"
dim = 8
vectors = 2000
[[step]]
op = "delete"
filter = "file_path = 'src/mcp_vector_search/module_000000/file_%i.py'"
clauses = 31985
[[step]]
op = "count"
equals = 1000
[[step]]
op = "verify"
[expect]
outcome = "ok"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << o.detail << "\n" << o.stderr_excerpt.head;
}

TEST_F(VstoreDriver, SecondWriterIsBusyAndReadersSurviveCompactionInAnotherProcess) {
  Outcome o = run(R"(
name = "two-processes"
targets = ["vstore"]
builds = ["release"]
[[step]]
op = "create"
dim = 8
vectors = 3000
[[step]]
op = "second-process"
action = "open-writer"
args = { expect = "busy" }
[[step]]
op = "second-process"
action = "read-loop"
args = { duration = "300ms" }
[[step]]
op = "remove"
count = 1000
[[step]]
op = "compact"
[[step]]
op = "join"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << o.detail << "\n" << o.stderr_excerpt.head;
}

TEST_F(VstoreDriver, AWrongAnswerIsAStepErrorNamingTheStep) {
  Outcome o = run(R"(
name = "wrong-count"
targets = ["vstore"]
builds = ["release"]
[[step]]
op = "create"
dim = 4
vectors = 10
[[step]]
op = "count"
equals = 11
[expect]
outcome = "ok"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "error");
  EXPECT_EQ(o.failed_step, 1);
  EXPECT_NE(o.detail.find("wrong-result"), std::string::npos) << o.detail;
}

// The search oracle in the vstore driver: recall@k against the kit's exact
// search is measured at every search step, for every metric, and a floor the
// index cannot meet fails the step.
TEST_F(VstoreDriver, SearchRecallIsMeasuredForEveryMetricAndKeptWithTheStep) {
  for (const char* metric : {"l2", "ip", "cosine"}) {
    Outcome o = run(fmt::format(R"(
name = "recall-{0}"
targets = ["vstore"]
builds = ["release"]
check_invariants = true
[[step]]
op = "create"
dim = 16
vectors = 600
metric = "{0}"
store = "store-{0}"
[[step]]
op = "search"
queries = 20
k = 10
ef = 128
min_recall = 0.9
[expect]
outcome = "ok"
)",
                                metric));
    ASSERT_EQ(std::string(to_string(o.kind)), "ok") << metric << ": " << o.detail;
    ASSERT_EQ(o.steps.size(), 2u);
    const auto& measured = o.steps[1].measured;
    ASSERT_TRUE(measured.count("recall")) << metric;
    EXPECT_GE(measured.at("recall"), 0.9) << metric;
    EXPECT_EQ(measured.at("queries"), 20.0);
    EXPECT_EQ(measured.at("k"), 10.0);
    if (std::string(metric) != "ip") {
      EXPECT_EQ(measured.at("self_queries"), 10.0) << metric;
      EXPECT_EQ(measured.at("self_found"), 10.0) << metric << ": a record's own vector finds the record";
    }
  }
}

TEST_F(VstoreDriver, AnIndexTooPoorForTheFloorIsAWrongResultSayingWhatWasMeasured) {
  Outcome o = run(R"(
name = "poor-recall"
targets = ["vstore"]
builds = ["release"]
[[step]]
op = "create"
dim = 32
vectors = 3000
m = 2
ef_construction = 1
[[step]]
op = "search"
queries = 20
k = 10
ef = 1
min_recall = 0.99
[expect]
outcome = "ok"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "error") << o.detail;
  EXPECT_EQ(o.failed_step, 1);
  EXPECT_NE(o.detail.find("below min_recall 0.99"), std::string::npos) << o.detail;
}

TEST_F(VstoreDriver, AFloorOnAStoreTheModelDoesNotKnowIsRefusedNotSkipped) {
  Outcome o = run(R"(
name = "floor-after-a-workload"
targets = ["vstore"]
builds = ["release"]
[[step]]
op = "create"
dim = 8
vectors = 100
[[step]]
op = "spawn-workload"
workload = "add"
threads = 1
duration = "50ms"
[[step]]
op = "join"
[[step]]
op = "search"
min_recall = 0.5
[expect]
outcome = "ok"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "error") << o.detail;
  EXPECT_EQ(o.failed_step, 3);
  EXPECT_NE(o.detail.find("knows record for record"), std::string::npos) << o.detail;
}

// Filtered deletes against the kit's reference evaluator: the unparenthesized
// mix, doubled quotes and metadata fields; count agrees afterwards.
TEST_F(VstoreDriver, FilteredDeletesRemoveExactlyWhatTheReferenceSelects) {
  Outcome o = run(R"(
name = "filtered-deletes"
targets = ["vstore"]
builds = ["release"]
check_invariants = true
[[step]]
op = "create"
dim = 4
vectors = 100
[[step]]
op = "add"
vectors = 50
metadata = { team = "it's red" }
[[step]]
op = "delete"
filter = "file_path = 'src/mcp_vector_search/module_000000/file_00000003.py' OR team = 'it''s red' AND file_path != 'src/mcp_vector_search/module_000000/file_00000120.py'"
[[step]]
op = "count"
equals = 100
[[step]]
op = "get"
ids = [120]
[[step]]
op = "get"
ids = [3]
expect = "error:not-found"
[[step]]
op = "verify"
[expect]
outcome = "ok"
)");
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << o.detail << "\n" << o.stderr_excerpt.head;
}

// The import op: a store another cell made, imported by a second cell.
// MANIFEST says dim and metric; the files are copied, not touched; the model
// is empty, so verify checks what vstore checks of the records the files hold
// (a scan, count against it) and the records added since.
TEST_F(VstoreDriver, AStoreAnotherCellMadeIsImportedReadAndLeftUntouched) {
  std::string made = (root_ / "made").string();
  Outcome o = testing::run_one_cell(R"toml(
name = "vstore-made"
targets = ["vstore"]
[[step]]
op = "create"
dim = 16
vectors = 1950
metric = "cosine"
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
equals = 1999
[expect]
outcome = "ok"
)toml",
                                    CRASHGATE_VSTORE_DRIVER, made);
  ASSERT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  std::string source = made + "/store";
  auto before = testing::files_of(source);
  o = testing::run_one_cell(testing::import_scenario("vstore", source, "", R"toml(
[[step]]
op = "read"
what = "open"
[[step]]
op = "read"
what = "count"
[[step]]
op = "count"
equals = 1999
[[step]]
op = "search"
queries = 5
[[step]]
op = "read"
what = "scan"
[[step]]
op = "read"
what = "fsck"
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
equals = 2001
)toml"),
                            CRASHGATE_VSTORE_DRIVER, (root_ / "read").string());
  EXPECT_EQ(std::string(to_string(o.kind)), "ok") << testing::steps_of(o);
  EXPECT_EQ(o.steps.size(), 12u) << testing::steps_of(o);
  EXPECT_EQ(testing::files_of(source), before) << "the source directory is only read";

  // MANIFEST says dim 16 and cosine: a step that says otherwise is refused, naming both.
  o = testing::run_one_cell(testing::import_scenario("vstore", source, "metric = \"l2\""), CRASHGATE_VSTORE_DRIVER,
                            (root_ / "wrong-metric").string());
  ASSERT_EQ(o.steps.size(), 1u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].code, "invalid-argument");
  EXPECT_NE(o.steps[0].message.find("import: metric = l2, but MANIFEST's metric says cosine"), std::string::npos) << o.steps[0].message;

  std::string missing = source + "/no-such-dir";
  o = testing::run_one_cell(testing::import_scenario("vstore", missing, "", "[[step]]\nop = \"count\""), CRASHGATE_VSTORE_DRIVER,
                            (root_ / "missing").string());
  ASSERT_EQ(o.steps.size(), 1u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].code, "not-found");
  EXPECT_NE(o.steps[0].message.find(missing), std::string::npos) << o.steps[0].message;

  // vectors-*.bin cut to half (through the committed records: 2,000 of 16
  // dimensions fill most of its preallocated 200 KiB): a clean corrupt error
  // where the store is opened, as truncated-vectors-bin expects.
  std::string field = (root_ / "field").string();
  testing::copy_with_half(source, field, "vectors-000001.bin");
  o = testing::run_one_cell(testing::import_scenario("vstore", field, "", "[[step]]\nop = \"count\""), CRASHGATE_VSTORE_DRIVER,
                            (root_ / "halved").string());
  ASSERT_EQ(o.steps.size(), 2u) << testing::steps_of(o);
  EXPECT_EQ(o.steps[0].status, StepStatus::ok);
  EXPECT_EQ(std::string(to_string(o.kind)), "error") << testing::steps_of(o);
  EXPECT_EQ(o.steps[1].code, "corrupt") << testing::steps_of(o);
}

}  // namespace
}  // namespace crashgate
