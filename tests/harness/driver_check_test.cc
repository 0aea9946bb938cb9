// `crashgate driver-check`: passes a conforming driver (the vstore driver, and
// a hand-written one), and fails a driver broken in one way on exactly that
// rule, saying why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

Outcome driver_check(const std::string& driver, const std::string& broken = "") {
  RunSpec spec;
  spec.argv = {testing::crashgate_binary(), "driver-check", driver, "--timeout", "30s",
               "--work-dir", testing::scratch_dir("driver-check-" + (broken.empty() ? "conforming" : broken))};
  if (!broken.empty()) spec.env.emplace_back("BROKEN", broken);
  // driver-check runs twelve checks, each up to its own 30 s: the Python driver
  // starts an interpreter for each, about 18 s in all under TSan, and past the
  // runner's default 30 s wall on a loaded machine (it was killed half way).
  spec.limits.wall = std::chrono::seconds(180);
  spec.trace = false;
  return run_observed(spec);
}

TEST(DriverCheck, TheVstoreDriverConforms) {
  Outcome o = driver_check(CRASHGATE_VSTORE_DRIVER);
  EXPECT_EQ(o.exit_code, 0) << o.stdout_excerpt.text() << o.stderr_excerpt.text();
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed"));
}

// The Python kit's example: hnswlib through Debian's python3-hnswlib, generated beside the vstore driver.
TEST(DriverCheck, ThePythonKitsHnswlibDriverConforms) {
  std::string driver = (std::filesystem::path(CRASHGATE_VSTORE_DRIVER).parent_path() / "crashgate-driver-pyhnswlib").string();
  if (!std::filesystem::exists(driver)) GTEST_SKIP() << driver << " was not generated (no /usr/bin/python3)";
  Outcome o = driver_check(driver);
  EXPECT_EQ(o.exit_code, 0) << o.stdout_excerpt.text() << o.stderr_excerpt.text();
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed"));
}

TEST(DriverCheck, AHandWrittenDriverThatKeepsEveryRuleConforms) {
  Outcome o = driver_check(testing::crasher_path("broken_driver"));
  EXPECT_EQ(o.exit_code, 0) << o.stdout_excerpt.text();
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed"));
}

TEST(DriverCheck, AMissingDriverIsAUsageErrorThatSaysHowToBuildIt) {
  RunSpec spec;
  spec.argv = {testing::crashgate_binary(), "driver-check", "no-such-engine", "--build-root", testing::scratch_dir("no-builds")};
  spec.trace = false;
  Outcome o = run_observed(spec);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("crashgate-driver-no-such-engine"));
}

struct Broken {
  const char* rule;       // BROKEN=rule
  const char* check;      // the check that must fail
  const char* why;        // what its line must say
};

class BrokenDriver : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenDriver, FailsOnTheRuleItBreaksAndSaysWhy) {
  Outcome o = driver_check(testing::crasher_path("broken_driver"), GetParam().rule);
  std::string out = o.stdout_excerpt.text();
  EXPECT_EQ(o.exit_code, 1) << out;
  std::string line;
  for (std::size_t at = out.find(std::string("FAIL  ") + GetParam().check); at != std::string::npos;) {
    line = out.substr(at, out.find('\n', at) - at);
    break;
  }
  ASSERT_FALSE(line.empty()) << "no failed " << GetParam().check << " line in:\n" << out;
  EXPECT_THAT(line, HasSubstr(GetParam().why));
  EXPECT_THAT(out, HasSubstr("of 12 checks passed; the driver does not conform"));
}

INSTANTIATE_TEST_SUITE_P(
    EachRule, BrokenDriver,
    ::testing::Values(Broken{"no-hello", "hello-first", "the first event was 'step-start', not hello"},
                      Broken{"bad-list", "list-ops", "not a JSON object with an \"op\""},
                      Broken{"list-unknown-ok", "list-unknown", "it exited 0, not 2"},
                      Broken{"bad-layout", "list-layout", "data.count: offset 0 + width 32 lies outside the 16-byte header"},
                      Broken{"exit-0-on-failure", "failed-step-exit", "it exited 0, not 1"},
                      Broken{"accept-unknown-op", "unknown-op", "a cell with op 'no-such-op': it exited 1, not 2"},
                      Broken{"accept-wrong-protocol", "wrong-protocol", "a protocol-2 cell: it exited 0, not 2"},
                      Broken{"late-step-start", "step-start-first", "no step-start came first"},
                      Broken{"ignore-stack", "worker-stack", "not the cell's worker_stack of 512 KiB"},
                      Broken{"nondeterministic", "deterministic", "the same seed gave different events"},
                      Broken{"listed-op-crashes", "every-op-runs", "get {\"ids\":[0]}: signal (SIGSEGV"}),
    [](const ::testing::TestParamInfo<Broken>& info) {
      std::string name = info.param.rule;
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

}  // namespace
}  // namespace crashgate
