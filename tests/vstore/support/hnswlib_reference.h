// Test support: hnswlib (Debian libhnswlib-dev) as the reference to compare the
// index with. Compiled without ASan/UBSan instrumentation (tests/CMakeLists.txt):
// hnswlib's own searchBaseLayer reads 4 bytes past a link list, which ASan
// would report against our test rather than against hnswlib.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vstore::testing {

// Builds an L2 HierarchicalNSW of the rows of `data` (ids = row numbers) with
// M and ef_construction, then returns the k ids found for each query at `ef`.
std::vector<std::vector<uint64_t>> hnswlib_knn(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim, size_t m,
                                               size_t ef_construction, size_t ef, size_t k);

}  // namespace vstore::testing
