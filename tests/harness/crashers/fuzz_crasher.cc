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

// Byte by byte, so that every right byte is new coverage the fuzzer keeps.
bool starts_with(const uint8_t* data, size_t size, const char* marker) {
  for (size_t i = 0; marker[i] != '\0'; ++i)
    if (i >= size || data[i] != static_cast<uint8_t>(marker[i])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0 && data[0] == 'C' && size > 1 && data[1] == 'R' && size > 2 && data[2] == 'A' && size > 3 && data[3] == 'S' &&
      size > 4 && data[4] == 'H')
    crash_on_marker();
  if (size > 0 && data[0] == 'B' && size > 1 && data[1] == 'O' && size > 2 && data[2] == 'O' && size > 3 && data[3] == 'M')
    boom(reinterpret_cast<volatile int*>(starts_with(data, size, "BOOM!") ? 8 : 0));
  return 0;
}
