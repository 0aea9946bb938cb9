// Integer division by zero: SIGFPE (FPE_INTDIV).
__attribute__((noinline)) int average(int total, int count) { return total / count; }

int main() {
  volatile int zero = 0;
  return average(10, zero);
}
