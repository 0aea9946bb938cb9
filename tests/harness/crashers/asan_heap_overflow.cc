// AddressSanitizer: a 4-byte read one past a heap array.
#include <cstdlib>

__attribute__((noinline)) int last_plus_one(const int* values, int count) { return values[count]; }

int main() {
  int* values = static_cast<int*>(std::malloc(4 * sizeof(int)));
  for (int i = 0; i < 4; ++i) values[i] = i;
  int result = last_plus_one(values, 4);
  std::free(values);
  return result;
}
