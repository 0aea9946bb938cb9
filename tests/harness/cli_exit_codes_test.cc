// Every command states its exit statuses in --help, and the README's table
// has a row for each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

const std::vector<std::vector<std::string>> kCommands = {
    {"exec"}, {"run"}, {"list"}, {"show"}, {"repro"}, {"check"}, {"gate"}, {"baseline", "update"}, {"merge"}, {"matrix"}, {"report"}, {"fuzz"}, {"coverage"}, {"footprints"}, {"record"}, {"crash-states"}, {"crash-check"}};

TEST(CliExitCodes, EveryCommandsHelpEndsWithItsExitStatuses) {
  for (auto args : kCommands) {
    std::string name = args.back();
    args.push_back("--help");
    Outcome o = testing::run_crashgate(args);
    EXPECT_EQ(o.exit_code, 0) << name;
    EXPECT_THAT(o.stdout_excerpt.text(), ::testing::ContainsRegex("Exit status[^0-9]*0 ")) << name << " --help:\n"
                                                                                          << o.stdout_excerpt.text();
  }
}

TEST(CliExitCodes, TheReadmeTableHasARowForEveryCommand) {
  std::ifstream in(testing::source_dir() + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  auto table = readme.find("## Exit status of every command");
  ASSERT_NE(table, std::string::npos);
  std::string section = readme.substr(table, readme.find("\n## ", table + 1) - table);
  for (const auto& args : kCommands) {
    std::string name = args.size() == 2 ? args[0] + " " + args[1] : args[0];
    EXPECT_THAT(section, ::testing::ContainsRegex("\n\\| [^\n]*`" + name + "`")) << name;
  }
}

// A scenario piped in (`... | crashgate list /dev/stdin`) has no canonical
// path; crashgate once aborted on it with an uncaught filesystem_error.
TEST(CliExitCodes, AScenarioReadFromAPipeIsListedInsteadOfAborting) {
  std::string dir = testing::scratch_dir("cli-pipe");
  testing::write_file(dir + "/piped.toml", "name = \"piped\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"create\"\n[expect]\noutcome = \"ok\"\n");
  std::string command = "cat '" + dir + "/piped.toml' | '" + testing::crashgate_binary() + "' list /dev/stdin > '" + dir + "/out' 2>&1";
  int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << command;
  EXPECT_EQ(WEXITSTATUS(status), 0) << testing::read_file(dir + "/out");
  EXPECT_THAT(testing::read_file(dir + "/out"), ::testing::HasSubstr("piped/vstore/"));
}

}  // namespace
}  // namespace crashgate
