// Internal: the one bounds check every access to mapped memory goes through.
#pragma once

#include <cstdint>

#include "vstore/regression.h"

namespace vstore::internal {

// True when [offset, offset + len) lies within [0, size). Written so that no
// operand can wrap: `len > size || offset > size - len` fails, never
// `offset + len > size` (which wraps for offsets near 2^64; regression 004 #2).
inline bool within_bounds(uint64_t offset, uint64_t len, uint64_t size) {
  if (regression_enabled(Regression::overflowing_bounds_check)) return offset + len <= size;
  return len <= size && offset <= size - len;
}

// a * b + c without wrapping; false when the result does not fit in 64 bits.
inline bool checked_mul_add(uint64_t a, uint64_t b, uint64_t c, uint64_t* out) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return false;
  return !__builtin_add_overflow(product, c, out);
}

}  // namespace vstore::internal
