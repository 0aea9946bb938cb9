// Leaves a grandchild behind: it leaves the process group (setsid) and sleeps
// forever; the child exits at once. crashgate must not let it survive the run.
#include <unistd.h>

#include <cstdio>

int main() {
  pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    setsid();
    while (true) pause();
  }
  std::printf("grandchild %d\n", child);
  return 0;
}
