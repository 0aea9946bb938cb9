// ThreadSanitizer: two threads write one counter without a lock.
#include <pthread.h>

int g_count;

__attribute__((noinline)) void bump() { g_count = g_count + 1; }

void* writer(void*) {
  bump();
  return nullptr;
}

int main() {
  pthread_t thread;
  pthread_create(&thread, nullptr, writer, nullptr);
  bump();
  pthread_join(thread, nullptr);
  return g_count == 2 ? 0 : 0;
}
