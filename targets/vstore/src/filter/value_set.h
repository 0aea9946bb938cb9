// filter/value_set.h: the values of one comparison (`f IN ('a', 'b', ...)`) and
// the hash index that makes a merged million-value OR chain one lookup.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace vstore::filter {

// One value: a slice of the tree's string pool. Offsets, not pointers, so a tree
// can be moved or copied without fixing anything up.
struct ValueRef {
  uint32_t offset = 0;
  uint32_t length = 0;
};

// Runs of this many values or fewer are scanned; longer runs get a ValueIndex.
inline constexpr uint32_t kScanAtMost = 8;

// Open-addressing hash set over a run of ValueRefs; it stores their indices.
class ValueIndex {
 public:
  // Removes repeated values from values[first, first + *count), keeping each
  // first occurrence in order, and updates *count. Returns the index of the run
  // when it is longer than kScanAtMost (an empty index otherwise).
  static ValueIndex deduplicate(std::string_view pool, std::vector<ValueRef>& values, uint32_t first,
                                uint32_t* count);

  bool empty() const { return slots_.empty(); }
  // Whether `key` is one of the indexed values.
  bool contains(std::string_view key, std::string_view pool, const std::vector<ValueRef>& values) const;

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::vector<uint32_t> slots_;  // index into the values, or kEmpty
  uint64_t mask_ = 0;
};

// Whether `key` is among values[first, first + count), by index or scan.
bool run_contains(std::string_view key, std::string_view pool, const std::vector<ValueRef>& values,
                  uint32_t first, uint32_t count, const ValueIndex* index);

}  // namespace vstore::filter
