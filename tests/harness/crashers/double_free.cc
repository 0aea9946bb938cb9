// A buffer freed twice: glibc's allocator notices ("free(): double free
// detected in tcache 2"), prints its one line and aborts. No sanitizer: this
// is the field's plain build, for the glibc-abort crash log parser.
#include <cstdlib>
#include <cstring>

__attribute__((noinline)) void release(char* buffer) { std::free(buffer); }

int main() {
  char* buffer = static_cast<char*>(std::malloc(64));
  std::memset(buffer, 'x', 64);
  release(buffer);
  // Through a volatile pointer, so the compiler cannot see the second free coming.
  char* volatile again = buffer;
  release(again);
  return 0;
}
