// unwind_process (observe/stack_unwind.h) on a live process whose threads are
// not all ptrace-stopped: a thread cloned while the runner was stopping the
// others is walked by libdwfl too, and must not take crashgate down with it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "observe/stack_unwind.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

void* sleep_forever(void*) {
  while (true) pause();
  return nullptr;
}

std::size_t thread_count(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    (void)entry;
    ++n;
  }
  return n;
}

TEST(StackUnwind, ThreadsNotStoppedUnderPtraceAreNamedAndTheStoppedOneIsStillUnwound) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // if unwinding takes the test down, the child goes too
    pthread_t t;
    for (int i = 0; i < 2; ++i)
      if (pthread_create(&t, nullptr, sleep_forever, nullptr) != 0) _exit(3);
    sleep_forever(nullptr);
  }
  // Its main thread and the two it made (and, under TSan, the runtime's own).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (thread_count(child) < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::size_t threads = thread_count(child);
  ASSERT_GE(threads, 3u);
  // Only the main thread is stopped, as a thread the runner had not seen yet would be left running.
  ASSERT_EQ(ptrace(PTRACE_SEIZE, child, nullptr, nullptr), 0) << strerror(errno);
  ASSERT_EQ(ptrace(PTRACE_INTERRUPT, child, nullptr, nullptr), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, __WALL), child);

  ProcessStacks stacks = unwind_process(child, child, 64);

  EXPECT_EQ(stacks.error, "");
  ASSERT_EQ(stacks.threads.size(), threads);
  EXPECT_EQ(stacks.threads[0].tid, child);
  EXPECT_EQ(stacks.threads[0].role, "crashed");
  EXPECT_EQ(stacks.threads[0].error, "");
  EXPECT_FALSE(stacks.threads[0].frames.empty());
  for (std::size_t i = 1; i < threads; ++i) {
    EXPECT_THAT(stacks.threads[i].error, HasSubstr("not stopped under ptrace")) << "thread " << stacks.threads[i].tid;
    EXPECT_TRUE(stacks.threads[i].frames.empty());
  }
  kill(child, SIGKILL);
  ptrace(PTRACE_DETACH, child, nullptr, nullptr);
  waitpid(child, &status, __WALL);
}

}  // namespace
}  // namespace crashgate

namespace crashgate {
namespace {

TEST(Demangle, ReadsCxxRustsV0AndRustsLegacySchemeWithoutItsHash) {
  EXPECT_EQ(demangle("_ZN6vstore5Store5countEv"), "vstore::Store::count()");
  EXPECT_EQ(demangle("_RNvNtNtNtNtNtCsjrHSEGnQ3l9_3std3sys3pal4unix14stack_overflow3imp14signal_handler"),
            "std::sys::pal::unix::stack_overflow::imp::signal_handler");
  EXPECT_EQ(demangle("_ZN4prog12parse_clause17hd7153a45f27da7bcE"), "prog::parse_clause");
  // Plain and broken symbols stay as they are.
  EXPECT_EQ(demangle("read_slot"), "read_slot");
  EXPECT_EQ(demangle("_RNvBroken"), "_RNvBroken");
  EXPECT_EQ(demangle("_ZN"), "_ZN");
}

}  // namespace
}  // namespace crashgate
