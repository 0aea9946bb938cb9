// LeakSanitizer: memory allocated and never freed.
#include <cstdlib>

void* g_sink;

__attribute__((noinline)) void leak_buffer() {
  char* buffer = static_cast<char*>(std::malloc(4096));
  buffer[0] = 1;
  g_sink = buffer;
  g_sink = nullptr;
}

int main() {
  leak_buffer();
  return 0;
}
