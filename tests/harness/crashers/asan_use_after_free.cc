// AddressSanitizer: use after free; the report has the access, free and allocation stacks.
__attribute__((noinline)) int* make_node() { return new int(42); }
__attribute__((noinline)) void drop_node(int* node) { delete node; }
__attribute__((noinline)) int read_node(const int* node) { return *node; }

int main() {
  int* node = make_node();
  drop_node(node);
  return read_node(node);
}
