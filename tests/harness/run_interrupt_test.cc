// Ctrl-C during `crashgate run`: every child stops, and results.json still
// holds the cells that finished (the rest are not-run); exit status 130.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

extern char** environ;

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(RunInterrupt, CtrlCStopsTheCellsAndStillWritesResultsJson) {
  std::string out = testing::scratch_dir("reports");
  std::string root = testing::fake_build_root();
  std::vector<std::string> args = {testing::crashgate_binary(), "run",          testing::run_fixture("slow"),
                                   "--build-root",             root,          "--out",
                                   out,                        "--build",     testing::this_build(),
                                   "-j",                       "2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  // Wait until the quick cell has finished (a log gets a line per finished cell), then press Ctrl-C.
  std::string quick = "sleepers/test/" + testing::this_build() + "[pause=0]";
  std::string seen;
  char buffer[4096];
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seen.find(quick) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<std::size_t>(n));
  }
  ASSERT_THAT(seen, HasSubstr(quick)) << "the quick cell never finished";
  auto pressed = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGINT), 0);
  while (true) {
    ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  auto stopping = std::chrono::steady_clock::now() - pressed;
  ASSERT_TRUE(WIFEXITED(status)) << seen;
  EXPECT_EQ(WEXITSTATUS(status), 130) << seen;
  EXPECT_LT(stopping, 10s) << "the sleeping cells were not stopped";
  EXPECT_THAT(seen, HasSubstr("interrupted: 2 cells did not finish"));

  auto results = testing::latest_results(out);
  EXPECT_EQ(results["interrupted"], true);
  EXPECT_EQ(results["exit_code"], 130);
  EXPECT_EQ(testing::results_cell(results, quick)["verdict"], "pass");
  EXPECT_EQ(testing::results_cell(results, "sleepers/test/" + testing::this_build() + "[pause=30000]")["verdict"],
            "not-run");
  EXPECT_EQ(testing::results_cell(results, "sleepers/test/" + testing::this_build() + "[pause=30001]")["verdict"],
            "not-run");
  EXPECT_EQ(results["counts"]["not-run"], 2);
}

}  // namespace
}  // namespace crashgate
