// For the diagnosis benchmark: 8 threads, each 50 frames deep, then one faults.
#include <pthread.h>
#include <unistd.h>

#include <atomic>

std::atomic<int> g_ready{0};

__attribute__((noinline)) int descend(int depth, bool crash) {
  if (depth == 0) {
    g_ready.fetch_add(1);
    if (crash) {
      while (g_ready.load() < 8) usleep(100);
      usleep(20000);
      volatile int* nothing = nullptr;
      return *nothing;
    }
    while (true) pause();
  }
  return descend(depth - 1, crash) + 1;
}

void* worker(void* arg) { return reinterpret_cast<void*>(static_cast<long>(descend(50, arg != nullptr))); }

int main() {
  pthread_t threads[8];
  for (int i = 0; i < 8; ++i) pthread_create(&threads[i], nullptr, worker, i == 7 ? &threads : nullptr);
  for (auto& t : threads) pthread_join(t, nullptr);
}
