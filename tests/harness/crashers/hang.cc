// Never finishes: the timeout must stop it.
#include <unistd.h>

__attribute__((noinline)) void wait_forever() {
  while (true) pause();
}

int main() { wait_forever(); }
