// Prints 1 GiB to stdout: "BEGIN", filler, "END". Bounded capture keeps the ends.
#include <unistd.h>

#include <cstring>
#include <vector>

static bool write_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(1, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int main() {
  constexpr size_t kTotal = 1ull << 30;
  constexpr size_t kChunk = 1 << 20;
  std::vector<char> chunk(kChunk, '.');
  std::memcpy(chunk.data(), "BEGIN", 5);
  for (size_t written = 0; written < kTotal; written += kChunk) {
    if (written + kChunk == kTotal) std::memcpy(chunk.data() + kChunk - 4, "END\n", 4);
    if (!write_all(chunk.data(), kChunk)) return 1;
    if (written == 0) std::memset(chunk.data(), '.', 5);
  }
  return 0;
}
