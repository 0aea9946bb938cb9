// Field report 003: unbounded recursion on a 2 MiB worker thread (a tokio
// worker's default) overflows into the stack guard.
#include <pthread.h>

#include <cstdio>

volatile int g_max_depth = 1 << 30;  // never reached: the stack ends first

__attribute__((noinline)) int parse_clause(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth > g_max_depth) return 0;
  return parse_clause(depth + 1) + frame[0];
}

void* worker(void*) {
  pthread_setname_np(pthread_self(), "filter-worker");
  std::printf("%d\n", parse_clause(0));
  return nullptr;
}

int main() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 2 * 1024 * 1024);
  pthread_t thread;
  if (pthread_create(&thread, &attr, worker, nullptr) != 0) return 2;
  pthread_join(thread, nullptr);
  return 0;
}
