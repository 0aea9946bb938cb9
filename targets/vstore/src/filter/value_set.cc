#include "filter/value_set.h"

#include <xxhash.h>

namespace vstore::filter {
namespace {

std::string_view text_of(std::string_view pool, ValueRef v) { return pool.substr(v.offset, v.length); }
uint64_t hash_of(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

}  // namespace

ValueIndex ValueIndex::deduplicate(std::string_view pool, std::vector<ValueRef>& values, uint32_t first,
                                   uint32_t* count) {
  ValueIndex index;
  uint32_t kept = 0;
  if (*count <= kScanAtMost) {
    for (uint32_t i = 0; i < *count; ++i) {
      ValueRef v = values[first + i];
      bool seen = false;
      for (uint32_t j = 0; j < kept && !seen; ++j) seen = text_of(pool, values[first + j]) == text_of(pool, v);
      if (!seen) values[first + kept++] = v;
    }
    *count = kept;
    return index;
  }
  size_t capacity = 16;
  while (capacity < size_t{*count} * 2) capacity *= 2;  // load factor at most 1/2
  index.slots_.assign(capacity, kEmpty);
  index.mask_ = capacity - 1;
  for (uint32_t i = 0; i < *count; ++i) {
    ValueRef v = values[first + i];
    std::string_view text = text_of(pool, v);
    uint64_t slot = hash_of(text) & index.mask_;
    bool seen = false;
    while (index.slots_[slot] != kEmpty) {
      if (text_of(pool, values[index.slots_[slot]]) == text) {
        seen = true;
        break;
      }
      slot = (slot + 1) & index.mask_;
    }
    if (seen) continue;
    values[first + kept] = v;
    index.slots_[slot] = first + kept;
    ++kept;
  }
  *count = kept;
  if (kept <= kScanAtMost) return ValueIndex();  // all duplicates of a few values
  return index;
}

bool ValueIndex::contains(std::string_view key, std::string_view pool, const std::vector<ValueRef>& values) const {
  uint64_t slot = hash_of(key) & mask_;
  while (slots_[slot] != kEmpty) {
    if (text_of(pool, values[slots_[slot]]) == key) return true;
    slot = (slot + 1) & mask_;
  }
  return false;
}

bool run_contains(std::string_view key, std::string_view pool, const std::vector<ValueRef>& values,
                  uint32_t first, uint32_t count, const ValueIndex* index) {
  if (index != nullptr && !index->empty()) return index->contains(key, pool, values);
  for (uint32_t i = 0; i < count; ++i)
    if (text_of(pool, values[first + i]) == key) return true;
  return false;
}

}  // namespace vstore::filter
