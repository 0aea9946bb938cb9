// `crashgate list`, `show` and `repro`: what a person does after a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::crashgate_run;
using testing::fake_build_root;
using testing::latest_results;
using testing::results_cell;
using testing::run_crashgate;
using testing::run_fixture;
using testing::scratch_dir;
using testing::this_build;


std::string truncated_cell() { return "truncated/test/" + this_build() + "[cut=100]"; }

// A finished run of tests/harness/data/run/{basic,failing}: returns its --out.
std::string finished_run() {
  std::string out = scratch_dir("reports");
  Outcome o = crashgate_run({"basic", "failing"}, fake_build_root(), out, {"--build", this_build()});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  return out;
}

TEST(ListCommand, PrintsEveryCellWithItsOriginOneALine) {
  Outcome o = run_crashgate({"list", run_fixture("basic")});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  std::string text = o.stdout_excerpt.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 15) << text;  // 5 builds x (1 + 2 params)
  std::string line = text.substr(text.find("truncated/test/asan[cut=100] "));
  line = line.substr(0, line.find('\n'));
  EXPECT_THAT(line, ::testing::EndsWith("  field-reports/000_391c9c321774cbc0.txt"));
  EXPECT_THAT(text, HasSubstr("fine/test/release"));
}

TEST(ListCommand, HonoursBuildTargetAndFilterWrittenBeforeOrAfterThePaths) {
  // Each option takes one word, so the paths after them are still paths.
  Outcome o = run_crashgate({"list", "--build", "release,tsan", "--filter", "truncated*[cut=0]", run_fixture("basic"),
                             "--target", "test", "--filter", "*[cut=100]", run_fixture("vstore")});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_EQ(o.stdout_excerpt.text(),
            "truncated/test/release[cut=0]    field-reports/000_391c9c321774cbc0.txt\n"
            "truncated/test/release[cut=100]  field-reports/000_391c9c321774cbc0.txt\n"
            "truncated/test/tsan[cut=0]       field-reports/000_391c9c321774cbc0.txt\n"
            "truncated/test/tsan[cut=100]     field-reports/000_391c9c321774cbc0.txt\n");
}

TEST(ListCommand, AMalformedFileIsAUsageError) {
  Outcome o = run_crashgate({"list", run_fixture("malformed")});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("bad-op.toml:5:6"));
}

TEST(ShowCommand, ExplainsACrashedCellFromTheRunsResults) {
  std::string out = finished_run();
  Outcome o = run_crashgate({"show", truncated_cell(), "--run", out + "/latest"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  std::string text = o.stdout_excerpt.text();
  EXPECT_THAT(text, HasSubstr("cell       " + truncated_cell()));
  EXPECT_THAT(text, HasSubstr("origin     field-reports/000_391c9c321774cbc0.txt"));
  EXPECT_THAT(text, HasSubstr("verdict    pass"));
  EXPECT_THAT(text, HasSubstr("expected   signal SIGBUS at step 2, message containing 'past the end of the file'"));
  EXPECT_THAT(text, HasSubstr("got        signal SIGBUS at step 2"));
  EXPECT_THAT(text, HasSubstr("failed     step 2 (count) died"));
  EXPECT_THAT(text, HasSubstr("SIGBUS (BUS_ADRERR): read at offset"));
  EXPECT_THAT(text, HasSubstr("vectors.bin, which is 100 bytes long"));
  EXPECT_THAT(text, HasSubstr("read_last_vector"));  // the crashing thread's frames
  EXPECT_THAT(text, HasSubstr("crash state: signal SIGBUS|(anonymous namespace)::read_last_vector"));
  EXPECT_THAT(text, HasSubstr("repro: "));
  EXPECT_THAT(text, HasSubstr("repro '" + truncated_cell() + "' --run "));
}

TEST(ShowCommand, ExplainsAFailureWithExpectationOutcomeAndStderr) {
  std::string out = finished_run();
  Outcome o = run_crashgate({"show", "wrong-expectation*", "--run", out + "/latest/results.json"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("verdict    fail"));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("unmet      outcome: expected error, got ok"));
}

TEST(ShowCommand, AnUnknownOrAmbiguousCellIsAUsageErrorNamingTheCandidates) {
  std::string out = finished_run();
  Outcome unknown = run_crashgate({"show", "nope", "--run", out + "/latest"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.stderr_excerpt.text(), HasSubstr("no cell 'nope'"));
  Outcome ambiguous = run_crashgate({"show", "truncated*", "--run", out + "/latest"});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_THAT(ambiguous.stderr_excerpt.text(), HasSubstr("matches 2 cells"));
  EXPECT_THAT(ambiguous.stderr_excerpt.text(), HasSubstr(truncated_cell()));
  Outcome no_run = run_crashgate({"show", "x", "--run", scratch_dir("empty")});
  EXPECT_EQ(no_run.exit_code, 2);
  EXPECT_THAT(no_run.stderr_excerpt.text(), HasSubstr("results.json: cannot read it"));
}

TEST(ReproCommand, RerunsTheCellWithItsSeedAndJudgesItAgain) {
  std::string out = finished_run();
  auto recorded = results_cell(latest_results(out), truncated_cell());
  Outcome o = run_crashgate({"repro", truncated_cell(), "--run", out + "/latest"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("SIGBUS (BUS_ADRERR)"));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("expected signal SIGBUS at step 2, message containing 'past the end of "
                                                 "the file', got signal SIGBUS at step 2: pass"));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("(seed " + std::to_string(recorded["seed"].get<std::uint64_t>()) + ")"));
  // The cell the driver read is the recorded one, in a fresh directory.
  std::string dir = out + "/latest/repro/";
  auto results = latest_results(out);
  for (std::size_t i = 0; i < results["cells"].size(); ++i)
    if (results["cells"][i]["id"] == truncated_cell()) dir += std::to_string(i);
  std::ifstream in(dir + "/cell.json");
  auto cell = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(cell.is_discarded()) << dir;
  EXPECT_EQ(cell["seed"], recorded["seed"]);
  EXPECT_EQ(cell["params"], recorded["params"]);
  EXPECT_EQ(cell["steps"], recorded["steps"]);
}

TEST(ReproCommand, AFailingCellStillFailsAndExitsOne) {
  std::string out = finished_run();
  Outcome o = run_crashgate({"repro", "wrong-expectation/test/" + this_build(), "--run", out + "/latest"});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("got ok: fail"));
}

TEST(ReproCommand, GdbRunsTheDriverOnTheCellsCellJson) {
  std::string out = finished_run();
  // gdb reads its commands from stdin, here empty: it runs the driver (-ex run), shows the crash, then quits.
  Outcome o = run_crashgate({"repro", truncated_cell(), "--gdb", "--run", out + "/latest"});
  std::string text = testing::output_of(o);
  EXPECT_THAT(text, HasSubstr("gdb -q -ex run --args "));
  EXPECT_THAT(text, HasSubstr("crashgate-driver-test --cell "));
  EXPECT_THAT(text, HasSubstr("SIGBUS")) << "gdb should have run the driver into its crash";
  EXPECT_THAT(text, Not(HasSubstr("cannot start gdb")));
}

}  // namespace
}  // namespace crashgate
