// The README's "Gate your own engine" walkthrough, as its commands run it:
// the example driver conforms, its scenarios pass on the hardened engine, and
// with the engine's header check removed crashgate reports the crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string example() { return testing::source_dir() + "/examples/gate-your-own-engine"; }

// `mkdir -p gate/release/bin && ln -s .../crashgate-driver-tinyvec gate/release/bin/`
std::string gate_root() {
  std::string root = testing::scratch_dir("gate");
  fs::create_directories(root + "/release/bin");
  fs::create_symlink(example() + "/crashgate-driver-tinyvec", root + "/release/bin/crashgate-driver-tinyvec");
  return root;
}

bool have_system_python() { return fs::exists("/usr/bin/python3"); }

TEST(Walkthrough, TheExampleDriverConforms) {
  if (!have_system_python()) GTEST_SKIP() << "no /usr/bin/python3";
  Outcome o = testing::run_crashgate({"driver-check", "tinyvec", "--build-root", gate_root(), "--timeout", "30s"});
  EXPECT_EQ(o.exit_code, 0) << o.stdout_excerpt.text();
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("12 of 12 checks passed"));
}

TEST(Walkthrough, TheTruncationAndCorruptionScenariosPassOnTheHardenedEngine) {
  if (!have_system_python()) GTEST_SKIP() << "no /usr/bin/python3";
  Outcome o = testing::run_crashgate({"run", example() + "/scenarios", "--build-root", gate_root(), "--out", testing::scratch_dir("reports")});
  EXPECT_EQ(o.exit_code, 0) << o.stdout_excerpt.text() << o.stderr_excerpt.text();
  EXPECT_THAT(o.stderr_excerpt.text() + o.stdout_excerpt.text(), HasSubstr("16 cells"));
}

TEST(Walkthrough, WithTheHeaderCheckRemovedCrashgateReportsTheSignalInTheReadStep) {
  if (!have_system_python()) GTEST_SKIP() << "no /usr/bin/python3";
  Outcome o = testing::run_crashgate({"run", example() + "/scenarios", "--build-root", gate_root(), "--out", testing::scratch_dir("reports")},
                                   {.env = {{"TINYVEC_TRUST_HEADER", "1"}}});
  EXPECT_EQ(o.exit_code, 1);
  std::string text = o.stdout_excerpt.text() + o.stderr_excerpt.text();
  EXPECT_THAT(text, HasSubstr("tinyvec-header-fields/tinyvec/release[field=record_size,value=u64le:1000000]"));
  EXPECT_THAT(text, HasSubstr("got       signal: SIGSEGV (SEGV_MAPERR)"));
  EXPECT_THAT(text, HasSubstr("in step 2 (read)"));
}

}  // namespace
}  // namespace crashgate
