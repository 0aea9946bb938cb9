// UndefinedBehaviorSanitizer: signed integer overflow.
#include <climits>

__attribute__((noinline)) int grow(int value) { return value + 1; }

int main(int argc, char**) { return grow(INT_MAX - 1 + argc) > 0 ? 0 : 1; }
