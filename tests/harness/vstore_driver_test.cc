// The vstore driver through the real runner and observers: the field's crashes,
// replayed as scenario cells, come back classified and attributed exactly.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "crashgate/driver_protocol.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"

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

}  // namespace
}  // namespace crashgate
