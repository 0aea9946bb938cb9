// Writes into a file mapped read-only: SIGSEGV (SEGV_ACCERR), a write.
// Usage: readonly_write DIR
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

__attribute__((noinline)) void stamp_header(char* header) { header[100] = 'X'; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string path = std::string(argv[1]) + "/index.bin";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, 8192) != 0) return 2;
  void* map = mmap(nullptr, 8192, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 2;
  stamp_header(static_cast<char*>(map));
  return 0;
}
