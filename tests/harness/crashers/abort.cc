// A failed consistency check that calls abort(): SIGABRT from raise().
#include <cstdio>
#include <cstdlib>

__attribute__((noinline)) void check_invariant(int slots) {
  if (slots < 0) {
    std::fprintf(stderr, "invariant broken: %d slots\n", slots);
    std::abort();
  }
}

int main(int argc, char**) { check_invariant(-argc); }
