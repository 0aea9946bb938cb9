// Internal: a shared mutex that lets a waiting exclusive locker in first.
// std::shared_mutex on glibc prefers readers, so a stream of overlapping
// searches (each holding the lock shared for its whole walk) can starve
// remove() and compaction forever; here new shared lockers wait while an
// exclusive locker waits. Not recursive: a thread holding it shared must not
// lock it shared again.
#pragma once

#include <atomic>
#include <shared_mutex>
#include <thread>

namespace vstore::internal {

class WriterFirstMutex {
 public:
  void lock() {
    waiting_.fetch_add(1, std::memory_order_acq_rel);
    mu_.lock();
    waiting_.fetch_sub(1, std::memory_order_acq_rel);
  }
  void unlock() { mu_.unlock(); }
  void lock_shared() {
    while (waiting_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    mu_.lock_shared();
  }
  void unlock_shared() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
  std::atomic<int> waiting_{0};
};

}  // namespace vstore::internal
