// The driver protocol end to end with the test driver, and the event reader alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "crashgate/driver_protocol.h"
#include "crashgate/scenario.h"
#include "crashgate/summary_text.h"
#include "harness/support/crashers.h"

namespace crashgate {
namespace {

using testing::crasher_path;
using testing::scratch_dir;

Cell cell_from(const std::string& toml) {
  auto parsed = parse_scenario(toml, "cell.toml");
  EXPECT_TRUE(parsed.scenario) << (parsed.errors.empty() ? "" : parsed.errors[0].text());
  return expand_cells(*parsed.scenario).at(0);
}

Outcome run_cell(const Cell& cell) {
  auto spec = cell_run_spec(cell, {crasher_path("test_driver")}, scratch_dir("cell"));
  EXPECT_TRUE(spec) << spec.error();
  return run_observed(*spec);
}

constexpr const char* kTruncatedStore = R"(name = "truncated"
targets = ["test"]
[params]
cut = ["100"]
[[step]]
op = "create"
dim = 4
vectors = 2048
[[step]]
op = "truncate"
file = "vectors"
to = "{cut}"
[[step]]
op = "count"
[expect]
outcome = "signal"
signal = "SIGBUS"
)";

TEST(DriverProtocol, ACrashInAStepNamesTheStep) {
  Outcome o = run_cell(cell_from(kTruncatedStore));
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_EQ(o.signal, SIGBUS);
  ASSERT_EQ(o.steps.size(), 3u) << summary_text(o);
  EXPECT_EQ(o.steps[0].status, StepStatus::ok);
  EXPECT_EQ(o.steps[1].status, StepStatus::ok);
  EXPECT_EQ(o.steps[2].op, "count");
  EXPECT_EQ(o.steps[2].status, StepStatus::died);
  EXPECT_EQ(o.failed_step, 2);
  EXPECT_THAT(o.detail, ::testing::HasSubstr("in step 2 (count)"));
  ASSERT_TRUE(o.attribution);
  EXPECT_EQ(o.attribution->file_size, 100u);
  EXPECT_TRUE(o.attribution->past_eof);
}

TEST(DriverProtocol, AStepEndingInErrorIsAnErrorOutcomeWithItsCode) {
  Outcome o = run_cell(cell_from(R"(name = "mismatch"
targets = ["test"]
[[step]]
op = "create"
vectors = 5
[[step]]
op = "count"
equals = 6
[expect]
outcome = "error"
)"));
  ASSERT_EQ(o.kind, OutcomeKind::error) << summary_text(o);
  EXPECT_EQ(o.failed_step, 1);
  EXPECT_EQ(o.steps[1].code, "corrupt");
  EXPECT_THAT(o.detail, ::testing::HasSubstr("step 1 (count) failed: corrupt"));
  EXPECT_EQ(o.crash_state, "error corrupt in count");
}

TEST(DriverProtocol, AllStepsOkIsOkWithDurations) {
  Outcome o = run_cell(cell_from(R"(name = "fine"
targets = ["test"]
[[step]]
op = "create"
[[step]]
op = "sleep"
duration = "30ms"
[expect]
outcome = "ok"
)"));
  ASSERT_EQ(o.kind, OutcomeKind::ok) << summary_text(o);
  ASSERT_EQ(o.steps.size(), 2u);
  // The driver's own measurement of a 30 ms sleep (the fallback, the events'
  // arrival times, measured 24 ms once under load; ReadStepEvents tests it).
  EXPECT_GE(o.steps[1].duration_ms, 29.5);
  EXPECT_LT(o.steps[1].duration_ms, 30000);
  EXPECT_FALSE(o.failed_step);
}

TEST(ReadStepEvents, MalformedLinesAreNotedAndSkipped) {
  Observation obs;
  read_step_events({{0, R"({"event":"hello","protocol":1})"},
                    {1, "not json"},
                    {2, R"({"event":"step-start","index":0,"op":"count"})"},
                    {5, R"({"event":"step-end","index":0,"status":"ok"})"},
                    {6, R"({"event":"mystery"})"},
                    {7, R"({"event":"step-start","index":1,"op":"compact"})"}},
                   obs);
  EXPECT_TRUE(obs.protocol_spoken);
  ASSERT_EQ(obs.steps.size(), 2u);
  EXPECT_EQ(obs.steps[0].status, StepStatus::ok);
  EXPECT_EQ(obs.steps[0].duration_ms, 3);
  EXPECT_EQ(obs.steps[1].status, StepStatus::died);
  ASSERT_EQ(obs.notes.size(), 2u);
  EXPECT_THAT(obs.notes[0], ::testing::HasSubstr("event line 2 is not a JSON object"));
  EXPECT_THAT(obs.notes[1], ::testing::HasSubstr("unknown event 'mystery'"));
}

TEST(ReadStepEvents, HelloSaysWhichEngineAndVersionTheDriverRan) {
  Observation obs;
  read_step_events({{0, R"({"event":"hello","protocol":1,"driver":"lmdb","engine":"lmdb","engine_version":"0.9.24"})"}}, obs);
  ASSERT_TRUE(obs.engine);
  EXPECT_EQ(obs.engine->name, "lmdb");
  EXPECT_EQ(obs.engine->version, "0.9.24");
  EXPECT_EQ(classify(obs).engine, obs.engine) << "the outcome keeps it";

  Observation silent;
  read_step_events({{0, R"({"event":"hello","protocol":1,"driver":"toy"})"}}, silent);
  EXPECT_FALSE(silent.engine) << "a driver that does not say has no engine, not an empty one";
}

// crashgate judges each step's end against the step's own `expect`, whatever the driver made of it.
TEST(ReadStepEvents, CrashgateJudgesEachStepEndAgainstItsExpect) {
  Observation obs;
  read_step_events({{1, R"({"event":"step-start","index":0,"op":"truncate"})"},
                    {2, R"({"event":"step-end","index":0,"status":"error","code":"corrupt","message":"cut"})"},
                    {3, R"({"event":"step-start","index":1,"op":"count"})"},
                    {4, R"({"event":"step-end","index":1,"status":"ok"})"}},
                   obs, {"error:corrupt", "error"});
  ASSERT_EQ(obs.steps.size(), 2u);
  EXPECT_EQ(obs.steps[0].status, StepStatus::ok);  // the error it expected
  EXPECT_EQ(obs.steps[0].message, "ended as expected: corrupt: cut");
  EXPECT_EQ(obs.steps[1].status, StepStatus::error);
  EXPECT_EQ(obs.steps[1].code, "wrong-result");
  EXPECT_EQ(obs.steps[1].message, "step expected error, got ok");
}

TEST(ReadStepEvents, AnErrorOfAnotherCodeThanExpectedIsAWrongResult) {
  Observation obs;
  read_step_events({{1, R"({"event":"step-start","index":0,"op":"count"})"},
                    {2, R"({"event":"step-end","index":0,"status":"error","code":"io","message":"EIO"})"}},
                   obs, {"error:corrupt"});
  ASSERT_EQ(obs.steps.size(), 1u);
  EXPECT_EQ(obs.steps[0].code, "wrong-result");
  EXPECT_EQ(obs.steps[0].message, "step expected error:corrupt, got io: EIO");
}

TEST(ReadStepEvents, AnExpectOfAlternativesAllowsAnyOfThemAndNothingElse) {
  Observation obs;
  read_step_events({{1, R"({"event":"step-start","index":0,"op":"add"})"},
                    {2, R"({"event":"step-end","index":0,"status":"ok"})"},
                    {3, R"({"event":"step-start","index":1,"op":"add"})"},
                    {4, R"({"event":"step-end","index":1,"status":"error","code":"corrupt","message":"slot 3"})"},
                    {5, R"({"event":"step-start","index":2,"op":"add"})"},
                    {6, R"({"event":"step-end","index":2,"status":"error","code":"io","message":"EIO"})"}},
                   obs, {"ok|error:corrupt", "ok|error:corrupt", "ok|error:corrupt"});
  ASSERT_EQ(obs.steps.size(), 3u);
  EXPECT_EQ(obs.steps[0].status, StepStatus::ok);
  EXPECT_EQ(obs.steps[0].message, "");
  EXPECT_EQ(obs.steps[1].status, StepStatus::ok);
  EXPECT_EQ(obs.steps[1].message, "ended as expected: corrupt: slot 3");
  EXPECT_EQ(obs.steps[2].status, StepStatus::error);
  EXPECT_EQ(obs.steps[2].code, "wrong-result");
  EXPECT_EQ(obs.steps[2].message, "step expected ok|error:corrupt, got io: EIO");
}

TEST(ReadStepEvents, AStepEndsMeasuredFiguresAreKeptAndANonNumberIsNoted) {
  Observation obs;
  read_step_events({{1, R"({"event":"step-start","index":0,"op":"search"})"},
                    {2, R"({"event":"step-end","index":0,"status":"ok","measured":{"recall":0.9,"k":10,"bad":"x"}})"},
                    {3, R"({"event":"step-start","index":1,"op":"count"})"},
                    {4, R"({"event":"step-end","index":1,"status":"ok","measured":[1]})"}},
                   obs);
  ASSERT_EQ(obs.steps.size(), 2u);
  EXPECT_EQ(obs.steps[0].measured, (std::map<std::string, double>{{"recall", 0.9}, {"k", 10}}));
  EXPECT_TRUE(obs.steps[1].measured.empty());
  ASSERT_EQ(obs.notes.size(), 2u);
  EXPECT_THAT(obs.notes[0], ::testing::HasSubstr("step 0 measured 'bad' is not a number"));
  EXPECT_THAT(obs.notes[1], ::testing::HasSubstr("step 1 measured is not an object"));
}

TEST(ReadStepEvents, AStepWithoutExpectKeepsTheErrorItReported) {
  Observation obs;
  read_step_events({{1, R"({"event":"step-start","index":0,"op":"count"})"},
                    {2, R"({"event":"step-end","index":0,"status":"error","code":"corrupt","message":"bad"})"}},
                   obs, {""});
  ASSERT_EQ(obs.steps.size(), 1u);
  EXPECT_EQ(obs.steps[0].status, StepStatus::error);
  EXPECT_EQ(obs.steps[0].code, "corrupt");
}

// Under TSan (no alternate signal stack) a stack overflow's SIGSEGV cannot be
// handled, and the kernel forces a second one with no address: the first one,
// in the guard page, is the crash.
TEST(Classify, AForcedSigsegvAfterAGuardPageFaultIsTheStackOverflow) {
  Observation obs;
  obs.main_pid = 10;
  obs.exited = true;
  obs.term_signal = SIGSEGV;
  SignalCapture fault;
  fault.pid = 10;
  fault.tid = 11;
  fault.signo = SIGSEGV;
  fault.si_code = SEGV_ACCERR;
  fault.address = 0x7f0000000ff8;
  fault.handled_by_program = true;
  fault.attribution = Attribution{};
  fault.attribution->stack_guard = true;
  fault.attribution->description = "write at 0x7f0000000ff8 in the stack guard of thread 11";
  SignalCapture forced;
  forced.pid = 10;
  forced.tid = 11;
  forced.signo = SIGSEGV;
  forced.si_code = SI_KERNEL;
  forced.attribution = Attribution{};
  forced.attribution->description = "a general-protection fault";
  obs.signals = {fault, forced};
  Outcome o = classify(obs);
  EXPECT_EQ(o.kind, OutcomeKind::stack_overflow);
  EXPECT_EQ(o.si_code, SEGV_ACCERR);
  EXPECT_THAT(o.detail, ::testing::HasSubstr("in the stack guard of thread 11"));
}

TEST(CellRunSpec, CarriesEveryStepsExpectForTheJudgement) {
  Cell cell = cell_from("name = \"e\"\ntargets = [\"test\"]\n[[step]]\nop = \"sync\"\n[[step]]\nop = \"count\"\n"
                        "expect = \"error:corrupt\"\n[expect]\noutcome = \"ok\"\n");
  auto spec = cell_run_spec(cell, {"driver"}, scratch_dir("expects"));
  ASSERT_TRUE(spec) << spec.error();
  EXPECT_EQ(spec->step_expects, (std::vector<std::string>{"", "error:corrupt"}));
}

TEST(CellDocument, CarriesStepsParamsSeedAndWorkerStack) {
  Cell cell = cell_from(std::string(kTruncatedStore) + "[limits]\nworker_stack = \"2MiB\"\n");
  auto doc = cell_document(cell, "/w");
  EXPECT_EQ(doc["protocol"], 1);
  EXPECT_EQ(doc["cell"], "truncated/test/release[cut=100]");
  EXPECT_EQ(doc["steps"][1]["to"], "100");
  EXPECT_EQ(doc["steps"][1]["index"], 1);
  EXPECT_EQ(doc["params"]["cut"], "100");
  EXPECT_EQ(doc["worker_stack"], 2 * 1024 * 1024);
  EXPECT_EQ(doc["seed"], cell.seed);
}

}  // namespace
}  // namespace crashgate
