// Allocates until the allocator fails (run it under an address-space limit):
// std::bad_alloc, then std::terminate and SIGABRT.
#include <cstring>
#include <vector>

int main() {
  std::vector<char*> blocks;
  while (true) {
    char* block = new char[16 * 1024 * 1024];
    std::memset(block, 1, 16 * 1024 * 1024);
    blocks.push_back(block);
  }
}
