// Internal: runs a loader once per process, and after that costs one atomic
// load. Every failpoint site and every regression check first makes sure the
// environment (VSTORE_FAILPOINTS, VSTORE_REGRESSION) has been read; a bare
// std::call_once there set two thread-locals and called pthread_once on each
// of those calls, which are many per record read.
#pragma once

#include <atomic>
#include <mutex>

namespace vstore::internal {

class LoadOnce {
 public:
  template <class Load>
  void operator()(Load&& load) {
    if (done_.load(std::memory_order_acquire)) return;
    std::call_once(once_, [&] {
      load();
      done_.store(true, std::memory_order_release);
    });
  }

 private:
  std::once_flag once_;
  std::atomic<bool> done_{false};
};

}  // namespace vstore::internal
