// The field reports' SIGBUS: a file is mapped at 16 KiB, then cut to 4 KiB
// (another process truncating it), and a read lands past the new end.
// Usage: mmap_past_eof DIR   (creates DIR/vectors.bin)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <string>

__attribute__((noinline)) float read_slot(const float* slots, long index) { return slots[index]; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string path = std::string(argv[1]) + "/vectors.bin";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, 16384) != 0) return 2;
  void* map = mmap(nullptr, 16384, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 2;
  if (ftruncate(fd, 4096) != 0) return 2;
  // 12,288 bytes in: the fourth page, which no longer exists.
  float value = read_slot(static_cast<const float*>(map), 12288 / sizeof(float));
  std::printf("%f\n", value);
  return 0;
}
