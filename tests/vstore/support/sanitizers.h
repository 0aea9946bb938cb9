// vstore/support/sanitizers.h: which sanitizer this test binary was built with,
// for tests that one of them cannot judge (TSan has no heap-overflow check).
#pragma once

namespace vstore::testing {

constexpr bool under_tsan() {
#if defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace vstore::testing
