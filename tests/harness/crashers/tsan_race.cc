// ThreadSanitizer: two threads write one counter without a lock, many times
// each, so the race is seen however the threads are scheduled.
#include <pthread.h>

int g_count;

__attribute__((noinline)) void bump() { g_count = g_count + 1; }

void* writer(void*) {
  for (int i = 0; i < 10000; ++i) bump();
  return nullptr;
}

int main() {
  pthread_t thread;
  pthread_create(&thread, nullptr, writer, nullptr);
  for (int i = 0; i < 10000; ++i) bump();
  pthread_join(thread, nullptr);
  return 0;
}
