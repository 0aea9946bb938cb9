// A small engine for crashgate-mutants' tests: one place for each rule, and
// the places no rule may touch. Parsed, never built.
#include <mutex>
#include <vector>

#define RETURN_IF_ERROR(expr) \
  do {                        \
    int st_ = (expr);         \
    if (st_ != 0) return st_; \
  } while (0)

bool regression_enabled(int);
int sync_file(int fd);
void check_all(std::vector<int>* problems);

struct Store {
  std::mutex mu;
  std::vector<int> slots;

  int read(int slot) {
    if (slot >= static_cast<int>(slots.size())) return -1;
    return slots[slot] + 4;
  }

  bool empty() const { return !slots.empty() && slots.front() == 0; }

  int commit(int fd) {
    std::lock_guard<std::mutex> lock(mu);
    RETURN_IF_ERROR(sync_file(fd));
    return 0;
  }
};

int fsck(std::vector<int>* problems, bool deep) {
  check_all(problems);
  if (regression_enabled(7)) {
    return problems->size() < 2 ? 0 : 1;
  }
  return deep || problems->empty() ? 0 : 1;
}

bool is_small(long n) { return n <= 0x10; }

bool valid(int x) {
  if (x < 0) return false;
  return true;
}

int sum(const std::vector<int>& v) {
  int t = 0;
  for (int x : v) t += x;
  return t;
}
