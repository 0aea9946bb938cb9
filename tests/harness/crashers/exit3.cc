// Exits with status 3 after a message: no crash, a plain failure.
#include <cstdio>
#include <cstdlib>

int main() {
  std::fprintf(stderr, "cannot open store: not found\n");
  std::exit(3);
}
