// A tiny libFuzzer target with two distinct crashes, for `crashgate fuzz`'s
// tests: input starting with "CRASH" aborts in crash_on_marker(); input
// starting with "BOOM" writes through a null pointer in boom(). Everything
// after the marker is noise the minimizer can drop, so many inputs share each
// of the two signatures.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

__attribute__((noinline)) void crash_on_marker() { std::abort(); }

__attribute__((noinline)) void boom(volatile int* p) { *p = 42; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 5 && std::memcmp(data, "CRASH", 5) == 0) crash_on_marker();
  if (size >= 4 && std::memcmp(data, "BOOM", 4) == 0) boom(reinterpret_cast<volatile int*>(size < 1000 ? 0 : 8));
  return 0;
}
