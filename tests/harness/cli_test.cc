// The crashgate binary: exit codes, --json, --help from the tables, clear errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/result_json.h"
#include "crashgate/runner.h"
#include "harness/support/refusal.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

TEST(Cli, ExecJsonPrintsTheResultAndExitsWithTheKindsCode) {
  Outcome o = testing::run_crashgate({"exec", "--json", "--", testing::crasher_path("null_deref")});
  ASSERT_EQ(o.kind, OutcomeKind::exit) << o.stderr_excerpt.text();
  EXPECT_EQ(o.exit_code, exit_code_of(OutcomeKind::signal));
  auto json = nlohmann::json::parse(o.stdout_excerpt.text());
  auto inner = outcome_from_json(json);
  ASSERT_TRUE(inner) << testing::refusal(inner);
  EXPECT_EQ(inner->kind, OutcomeKind::signal);
  EXPECT_EQ(json["signal"], "SIGSEGV");
}

TEST(Cli, ExecSummaryNamesTheFileOffsetAndSize) {
  std::string dir = testing::scratch_dir("store");
  Outcome o = testing::run_crashgate({"exec", "--", testing::crasher_path("mmap_past_eof"), dir});
  EXPECT_EQ(o.exit_code, exit_code_of(OutcomeKind::signal));
  EXPECT_THAT(o.stdout_excerpt.head, HasSubstr("SIGBUS (BUS_ADRERR): read at offset 12,288 of vectors.bin, which is 4,096 bytes long"));
  EXPECT_THAT(o.stdout_excerpt.head, HasSubstr("read_slot(float const*, long) at "));
  EXPECT_THAT(o.stdout_excerpt.head, HasSubstr("repro: crashgate exec -- "));
}

TEST(Cli, ExecOkExitsZero) {
  Outcome o = testing::run_crashgate({"exec", "--", "/bin/true"});
  EXPECT_EQ(o.exit_code, 0) << o.stdout_excerpt.text();
}

TEST(Cli, BadLimitsAreUsageErrorsNamingTheFlag) {
  Outcome o = testing::run_crashgate({"exec", "--stack", "8 parsecs", "--", "/bin/true"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--stack: '8 parsecs' is not a size"));
  o = testing::run_crashgate({"exec", "--timeout", "soon", "--", "/bin/true"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--timeout"));
}

TEST(Cli, UnknownFlagsAndMissingCommandsAreUsageErrors) {
  EXPECT_EQ(testing::run_crashgate({"exec", "--frobnicate", "--", "/bin/true"}).exit_code, 2);
  EXPECT_EQ(testing::run_crashgate({"exec"}).exit_code, 2);
  EXPECT_EQ(testing::run_crashgate({}).exit_code, 2);
}

TEST(Cli, ExecHelpListsEveryKindsExitCodeAndEveryLimitFlag) {
  Outcome o = testing::run_crashgate({"exec", "--help"});
  EXPECT_EQ(o.exit_code, 0);
  for (const auto& kind : outcome_kinds())
    EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr(std::string(kind.name))) << kind.name;
  for (const auto& field : limit_fields())
    EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr(std::string(field.cli_flag))) << field.cli_flag;
}

TEST(Cli, RepeatTalliesOutcomes) {
  Outcome o = testing::run_crashgate({"exec", "--repeat", "4", "-j", "2", "--", "/bin/true"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_THAT(o.stdout_excerpt.head, HasSubstr("4 runs"));
}

TEST(Cli, CheckReportsScenarioErrorsWithPositions) {
  std::string dir = testing::scratch_dir("scenarios");
  std::string path = dir + "/bad.toml";
  FILE* f = fopen(path.c_str(), "w");
  fputs("name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"explode\"\n[expect]\noutcome = \"ok\"\n", f);
  fclose(f);
  Outcome o = testing::run_crashgate({"check", path});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr(path + ":4:6: step 0: unknown op 'explode'"));
}

TEST(Cli, CheckTakesADirectoryOfScenariosAndNamesAPathThatIsNotThere) {
  std::string dir = testing::run_fixture("basic");
  Outcome o = testing::run_crashgate({"check", dir});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr(dir + "/fine.toml: "));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr(dir + "/truncated.toml: "));
  Outcome missing = testing::run_crashgate({"check", dir + "/nosuch.toml", dir});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr(dir + "/nosuch.toml"));
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr("no such file or directory"));
  EXPECT_THAT(missing.stdout_excerpt.text(), HasSubstr(dir + "/fine.toml: ")) << "the files that are there are still checked";
}

}  // namespace
}  // namespace crashgate
