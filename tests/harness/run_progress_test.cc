// What `crashgate run` prints as it goes: a live line on a terminal, one line
// per cell in a log.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/run_progress.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

extern char** environ;

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(EllipsizeMiddle, KeepsTheScenarioAndTheParams) {
  EXPECT_EQ(ellipsize_middle("truncated-vectors/vstore/release[cut=0]", 19), "truncated\u2026se[cut=0]");
  EXPECT_EQ(ellipsize_middle("short", 19), "short");
}

TEST(AttemptLine, SaysVerdictCellOutcomeAndWhatWasExpected) {
  CellResult cell;
  cell.cell.id = "t/vstore/release";
  cell.cell.expect.outcome = {OutcomeKind::error};
  cell.cell.expect.code = "corrupt";
  Attempt a;
  a.verdict = Verdict::fail;
  a.outcome.kind = OutcomeKind::ok;
  a.outcome.duration_ms = 12;
  EXPECT_EQ(attempt_line(cell, a), "fail          t/vstore/release  ok (expected error corrupt)  12 ms");
}

// Runs crashgate with its stdout on a pseudo-terminal 60 columns wide; returns what it wrote.
std::string run_on_terminal(const std::vector<std::string>& args) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  EXPECT_GE(master, 0);
  EXPECT_EQ(grantpt(master), 0);
  EXPECT_EQ(unlockpt(master), 0);
  winsize size{};
  size.ws_col = 60;
  size.ws_row = 24;
  ioctl(master, TIOCSWINSZ, &size);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  EXPECT_GE(slave, 0);
  std::vector<std::string> argv_text = {testing::crashgate_binary()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, slave, STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, master);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(slave);
  std::string seen;
  char buffer[4096];
  // A pty's master reads EIO once every slave is closed, i.e. when crashgate exits.
  while (true) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 60'000) <= 0) break;
    ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<std::size_t>(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return seen;
}

TEST(RunProgress, ATerminalGetsALiveLineAndOnlyProblemsScroll) {
  std::string out = testing::scratch_dir("reports");
  std::string text = run_on_terminal({"run", testing::run_fixture("basic"), testing::run_fixture("failing"),
                                      "--build", testing::this_build(), "--build-root", testing::fake_build_root(),
                                      "--out", out, "-j", "1"});
  EXPECT_THAT(text, HasSubstr("\r\033[K[4/4] 1 failed \u00b7 "));
  EXPECT_THAT(text, HasSubstr("\r\033[K[4/4] fail          wrong-expectation/test/"));
  EXPECT_THAT(text, Not(HasSubstr("] pass "))) << "passing cells do not scroll on a terminal";
  EXPECT_THAT(text, HasSubstr("crashgate run: 4 cells in "));
}

TEST(RunProgress, ALogGetsOneLinePerCell) {
  std::string out = testing::scratch_dir("reports");
  Outcome o = testing::crashgate_run({"basic"}, testing::fake_build_root(), out, {"--build", testing::this_build()});
  std::string text = o.stdout_excerpt.text();
  EXPECT_THAT(text, Not(HasSubstr("\033[K")));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + 3 + 1 + 1) << text;  // header, 3 cells, summary, results
}

}  // namespace
}  // namespace crashgate
