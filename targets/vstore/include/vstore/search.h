// vstore/search.h: the vocabulary of the store's HNSW index: how it is built
// (IndexOptions, fixed at create), how a query runs (SearchOptions) and what it
// returns (SearchHit). Distances: l2 is the squared Euclidean distance, ip is
// 1 - dot(a, b), cosine is 1 - cos(a, b); smaller is nearer for all three.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vstore {

struct IndexOptions {
  // false: no graph files; search() then scans every record (exact, O(n)).
  bool enabled = true;
  uint32_t m = 16;                 // links per node above level 0 (level 0: 2 * m); 2 to 64
  uint32_t ef_construction = 200;  // candidate-list size while linking; at least 1
};

struct SearchOptions {
  size_t k = 10;
  size_t ef = 10;  // candidate-list size at level 0; max(ef, k) is used
};

struct SearchHit {
  uint64_t id = 0;
  float distance = 0;
  friend bool operator==(const SearchHit&, const SearchHit&) = default;
};

}  // namespace vstore
