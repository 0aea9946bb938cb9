// Internal: the locks that keep neighbour lists whole while many threads link
// and search. One seqlock word per stripe of nodes, in memory (never in the
// file: a crash must not leave a lock held). A writer makes the word odd
// (exclusive among writers), writes the list, makes it even again; a reader
// copies the list and retries if the word was odd or moved meanwhile, so
// searches never block inserts and never write a shared cache line. Every
// access to a list is an atomic load or store, so there is no data race for
// TSan to report (the unlocked-links regression reads plainly, and it does).
//
// 4,096 stripes (16 KiB; it had 65,536): two nodes share a word only if
// they are a multiple of 4,096 apart, so with the handful of threads a store
// serves, a writer rarely waits on another's stripe and a reader rarely
// retries for a node it did not read. Every graph open allocates the table,
// and at 256 KiB (mapped fresh, and under ASan its shadow written) it cost
// about a seventh of each vstore_open fuzz input: 1,795 exec/s with 65,536
// stripes and 2,061 to 2,192 with 4,096, side by side on one core. The words
// come zeroed from calloc and are accessed through std::atomic_ref.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>

namespace vstore::internal {

class LinkLocks {
 public:
  static constexpr uint64_t kStripes = uint64_t{1} << 12;

  LinkLocks() : words_(static_cast<uint32_t*>(std::calloc(kStripes, sizeof(uint32_t)))) {
    if (!words_) throw std::bad_alloc();
  }

  // Writers: exclusive per stripe. Never hold two at once (stripes collide).
  void lock(uint64_t node) {
    std::atomic_ref<uint32_t> w = word(node);
    uint32_t v = w.load(std::memory_order_relaxed);
    for (unsigned spins = 0;; ++spins) {
      if ((v & 1) == 0 && w.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
      backoff(spins);
      v = w.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);
  }
  void unlock(uint64_t node) { word(node).fetch_add(1, std::memory_order_release); }

  // Readers: begin() returns the even word to pass to retry() after copying.
  uint32_t read_begin(uint64_t node) const {
    std::atomic_ref<uint32_t> w = word(node);
    for (unsigned spins = 0;; ++spins) {
      uint32_t v = w.load(std::memory_order_acquire);
      if ((v & 1) == 0) return v;
      backoff(spins);
    }
  }
  bool read_retry(uint64_t node, uint32_t begun) const {
    std::atomic_thread_fence(std::memory_order_acquire);
    return word(node).load(std::memory_order_relaxed) != begun;
  }

 private:
  std::atomic_ref<uint32_t> word(uint64_t node) const { return std::atomic_ref<uint32_t>(words_[node & (kStripes - 1)]); }
  static void backoff(unsigned spins) {
    if (spins < 64) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();  // the writer may be descheduled (2 cores, many threads)
    }
  }
  struct Free {
    void operator()(uint32_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint32_t[], Free> words_;
};

}  // namespace vstore::internal
