// UndefinedBehaviorSanitizer: loading an int from a misaligned address.
#include <cstring>

__attribute__((noinline)) int load_count(const char* header) { return *reinterpret_cast<const int*>(header + 1); }

int main() {
  alignas(8) char header[16];
  std::memset(header, 0, sizeof header);
  return load_count(header);
}
