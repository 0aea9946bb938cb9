// AddressSanitizer: writing past a local array.
__attribute__((noinline)) void fill(char* buffer, int count) {
  for (int i = 0; i <= count; ++i) buffer[i] = 'x';
}

int main() {
  char buffer[16];
  fill(buffer, 16);
  return buffer[0];
}
